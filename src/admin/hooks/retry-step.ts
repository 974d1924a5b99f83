import type { HttpTypes } from "@medusajs/framework/types"
import { useMutation, useQueryClient } from "@tanstack/react-query"
import { sdk } from "../lib/sdk"
import { timelineOf } from "../lib/timeline"
import { queryKeys } from "./query-keys"

export type RetriedStep = {
  id: string
  workflow_id: string
  transaction_id: string
  step_id: string
  state: string
}

export type RetryStepInput = {
  stepId: string
  /** The step's attempts as shown, so the step's next attempt can be told from this one. */
  attempts: number
}

/** The retry and, once the step ran again, the execution's state then (null: not within RETRY_WATCH_MS). */
export type RetryOutcome = { retry: RetriedStep; stateAfter: string | null }

// The route only schedules the retry: the engine's timer invokes the step, at once on an
// instance that runs timers. The panel watches the execution this long, then says it is scheduled.
const RETRY_WATCH_MS = 10000
const RETRY_WATCH_INTERVAL_MS = 250

/** POST /admin/workflow-engine/executions/:id/steps/retry, then the execution until the step ran again. */
export function useRetryStep(executionId: string) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: async ({
      stepId,
      attempts,
    }: RetryStepInput): Promise<RetryOutcome> => {
      const { retry } = await sdk.client.fetch<{ retry: RetriedStep }>(
        `/admin/workflow-engine/executions/${encodeURIComponent(executionId)}/steps/retry`,
        { method: "POST", body: { step_id: stepId } }
      )
      return {
        retry,
        stateAfter: await stateOnceRanAgain(executionId, stepId, attempts),
      }
    },
    onSettled: async () => {
      await queryClient.invalidateQueries({
        queryKey: queryKeys.medusaExecutions,
      })
      await queryClient.invalidateQueries({
        queryKey: queryKeys.retention(executionId),
      })
      await queryClient.invalidateQueries({ queryKey: queryKeys.storage })
    },
  })
}

/**
 * The execution's state once the step ran again. A step that answers this
 * time is followed at once by more checkpoints (its answer, the steps after
 * it), so the state is read once two reads in a row show the same write.
 */
async function stateOnceRanAgain(
  executionId: string,
  stepId: string,
  attempts: number
): Promise<string | null> {
  const deadline = Date.now() + RETRY_WATCH_MS
  let lastWrite: { updatedAt: unknown; state: string } | null = null
  while (Date.now() < deadline) {
    const { workflow_execution: execution } =
      await sdk.admin.workflowExecution.retrieve(executionId)
    const step = timelineOf(
      execution as HttpTypes.AdminWorkflowExecution,
      Date.now()
    ).steps.find((candidate) => candidate.action === stepId)
    if (step && step.attempts > attempts) {
      if (lastWrite && lastWrite.updatedAt === execution.updated_at) {
        return execution.state
      }
      lastWrite = { updatedAt: execution.updated_at, state: execution.state }
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_WATCH_INTERVAL_MS))
  }
  return lastWrite?.state ?? null
}
