import {
  SkipCancelledExecutionError,
  SkipExecutionError,
  SkipStepAlreadyFinishedError,
  TransactionCheckpoint,
  TransactionOptions,
} from "@medusajs/framework/orchestration"
import { TransactionState } from "@medusajs/framework/utils"
import { StoredStep, stepsOf } from "../stored-flow"
import {
  FAILED_STATES,
  FINISHED_STATES,
  STEP_FINISHED_STATES,
} from "../transaction-states"
import { StoredCheckpointRow } from "./sql/types"

/**
 * What decides whether a save may go ahead when several executions advance
 * one run at once: which saves need the row lock, and what a save under the
 * lock must refuse.
 */

/** The orchestrator's options of a save (its workflow's options, plus the step being saved). */
export type SaveOptions = TransactionOptions & {
  stepId?: string
  hasAsyncSteps?: boolean
  hasStepTimeouts?: boolean
  hasRetriesTimeout?: boolean
}

export function toCheckpoint(row: StoredCheckpointRow): TransactionCheckpoint {
  return new TransactionCheckpoint(
    row.execution,
    row.context?.data,
    row.context?.errors ?? []
  )
}

/**
 * Only workflows without async steps, timers or parallel versions take the
 * unlocked path: nothing but their own execution writes their checkpoints.
 */
export function isPlainSynchronous(
  data: TransactionCheckpoint,
  options?: SaveOptions
): boolean {
  const flow = data.flow
  return !(
    flow.hasAsyncSteps ||
    flow._v ||
    flow.cancelledAt ||
    options?.stepId ||
    options?.hasStepTimeouts ||
    options?.hasRetriesTimeout ||
    options?.timeout
  )
}

/**
 * Whether a stored run is over for whoever loads or saves it: finished, or,
 * for a cancel, failed or reverted (a done run can still be cancelled). An
 * idempotent workflow's finished run stays its answer, so it is never over.
 */
export function isOver(
  state: string,
  { idempotent, isCancelling }: { idempotent?: boolean; isCancelling?: boolean }
): boolean {
  if (idempotent) {
    return false
  }
  return isCancelling ? FAILED_STATES.has(state) : FINISHED_STATES.has(state)
}

/**
 * Refuses a checkpoint that another execution has already gone past: the run
 * finished (its row is gone, or kept for its retention), the step was
 * finished elsewhere, or the run was cancelled meanwhile. The orchestrator
 * treats these errors as "stop quietly".
 */
export function assertNotOvertaken(
  data: TransactionCheckpoint,
  stored: StoredCheckpointRow | undefined,
  options?: SaveOptions
): void {
  const flow = data.flow
  const over =
    !stored?.execution ||
    isOver(stored.execution.state, {
      idempotent: options?.idempotent,
      isCancelling: !!flow.cancelledAt,
    })
  if (over) {
    if (!flow.metadata?.parentStepIdempotencyKey) {
      throw new SkipExecutionError("Already finished by another execution")
    }
    return
  }

  const storedFlow = stored!.execution
  const saved = savedStep(data, options)
  if (saved) {
    const storedStep = stepsOf(storedFlow)[saved.id] as StoredStep | undefined
    if (storedStep) {
      const storedState = storedStep[saved.phase]?.state
      if (STEP_FINISHED_STATES.has(storedState)) {
        throw new SkipStepAlreadyFinishedError(
          `Step ${saved.id} already finished by another execution`
        )
      }
    }
  }

  if (storedFlow.cancelledAt && flow.cancelledAt == null) {
    throw new SkipCancelledExecutionError(
      "Workflow execution has been cancelled during the execution"
    )
  }
}

/**
 * The step a save is for, in the phase the run is in, when the checkpoint
 * has it: the one a save must not find finished elsewhere.
 */
export function savedStep(
  data: TransactionCheckpoint,
  options?: SaveOptions
): { id: string; phase: "invoke" | "compensate" } | undefined {
  const stepId = options?.stepId
  if (!stepId || !data.flow.steps[stepId]) {
    return undefined
  }
  return {
    id: stepId,
    phase:
      data.flow.state === TransactionState.COMPENSATING
        ? "compensate"
        : "invoke",
  }
}

/**
 * Parallel steps of one run save concurrently. When the stored run holds
 * progress this execution has not seen, the save is refused: the orchestrator
 * then reloads the run, merges it into its live state and saves again, so the
 * execution that saves last also knows every step finished before it.
 * Otherwise the merged checkpoint is saved, as Medusa's engines save it.
 */
export function assertNothingToMerge(
  data: TransactionCheckpoint,
  stored: StoredCheckpointRow
): void {
  const before = progressOf(data)
  const liveFlags = flagsOf(data)
  TransactionCheckpoint.mergeCheckpoints(data, toCheckpoint(stored))
  if (progressOf(data) !== before) {
    throw new CheckpointConflictError(
      data.flow.modelId,
      data.flow.transactionId
    )
  }
  restoreFlags(data, liveFlags)
}

/*
 * The merge takes these step flags from the stored run, which is right when
 * the stored run is the newer. Without progress elsewhere it is the older:
 * this storage writes only some checkpoints, so the row may predate what this
 * execution changed since (`stepFailed` is set when compensation begins, in a
 * checkpoint that is not written), and taking it would turn a compensating
 * step back into an invoked one, which the run then never compensates.
 */
const LIVE_FLAGS = ["stepFailed", "hasScheduledRetry"] as const

type LiveFlags = Partial<Pick<StoredStep, (typeof LIVE_FLAGS)[number]>>

function flagsOf({ flow }: TransactionCheckpoint): Map<string, LiveFlags> {
  const flags = new Map<string, LiveFlags>()
  for (const [id, step] of Object.entries(stepsOf(flow))) {
    flags.set(
      id,
      Object.fromEntries(LIVE_FLAGS.map((flag) => [flag, step[flag]]))
    )
  }
  return flags
}

function restoreFlags(
  { flow }: TransactionCheckpoint,
  flags: Map<string, LiveFlags>
): void {
  for (const [id, step] of Object.entries(stepsOf(flow))) {
    Object.assign(step, flags.get(id) ?? {})
  }
}

/*
 * Progress is what another execution can have done to the run: moved its
 * state or a step's state, answered or compensated a step (its response),
 * failed one (an error), cancelled or timed it out, versioned an async step.
 * A step's counters and retry marks are not: the merge takes the larger or
 * the stored one, while the live run may have reset them on purpose (they
 * start again when compensation begins; an awaiting retry clears its mark
 * when it runs), and refusing the save for them would have the orchestrator
 * put the stored values back into the live run: a compensation counted as a
 * later attempt, an awaiting retry that schedules no further one.
 */
function progressOf({ flow, context, errors }: TransactionCheckpoint): string {
  const steps = Object.values(flow.steps).map((step) => [
    step.id,
    step.invoke?.state,
    step.invoke?.status,
    step.compensate?.state,
    step.compensate?.status,
    step._v ?? 0,
  ])
  return JSON.stringify({
    state: flow.state,
    cancelledAt: flow.cancelledAt ?? null,
    timedOutAt: flow.timedOutAt ?? null,
    version: flow._v ?? 0,
    steps,
    context,
    errors,
  })
}

export class CheckpointConflictError extends Error {
  constructor(workflowId: string, transactionId: string) {
    super(
      `Run ${workflowId}:${transactionId} advanced concurrently; reload and merge before saving`
    )
    this.name = "CheckpointConflictError"
  }
}
