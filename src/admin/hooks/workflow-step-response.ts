import { useMutation, useQueryClient } from "@tanstack/react-query"
import { sdk } from "../lib/sdk"
import { queryKeys } from "./query-keys"

export type StepResponseInput = {
  workflowId: string
  transactionId: string
  stepId: string
  outcome: "success" | "failure"
}

/**
 * Medusa's own POST /admin/workflows-executions/:workflow_id/steps/{success,failure}:
 * completes a step that waits for an answer (an async step).
 */
export function useWorkflowStepResponse(executionId: string) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: ({
      workflowId,
      transactionId,
      stepId,
      outcome,
    }: StepResponseInput) =>
      sdk.client.fetch(
        `/admin/workflows-executions/${encodeURIComponent(workflowId)}/steps/${outcome}`,
        {
          method: "POST",
          body: { transaction_id: transactionId, step_id: stepId },
        }
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({
        queryKey: queryKeys.medusaExecutions,
      })
      await queryClient.invalidateQueries({
        queryKey: queryKeys.retention(executionId),
      })
    },
  })
}
