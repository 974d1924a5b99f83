import { TransactionCheckpoint } from "@medusajs/framework/orchestration"
import {
  TransactionState,
  TransactionStepState,
  TransactionStepStatus,
} from "@medusajs/framework/utils"
import { StoredStep, workflowSteps } from "../stored-flow"
import { FINISHED_STATES } from "../transaction-states"

const INVOKING_STEP_STATES = new Set<string>([
  TransactionStepState.INVOKING,
  TransactionStepState.DONE,
  TransactionStepState.FAILED,
])

/**
 * Whether a checkpoint must reach the database, or may stay in the running
 * process. Starts, ends and cancellations are always written; in between, a
 * checkpoint is written when the steps being worked on can be continued from
 * elsewhere (async steps, retry intervals, timeouts or `store` on the step),
 * or when a step is held after a failure until someone retries it
 * (`autoRetry: false`): that is when another call or a timer reads it back. A run of plain
 * synchronous steps is therefore one insert and one update, whatever its length.
 */
export function mustPersist(checkpoint: TransactionCheckpoint): boolean {
  const flow = checkpoint.flow
  if (
    flow.state === TransactionState.NOT_STARTED ||
    flow.state === TransactionState.WAITING_TO_COMPENSATE ||
    FINISHED_STATES.has(flow.state) ||
    flow._v
  ) {
    return true
  }

  const steps = workflowSteps(flow)
  if (steps.some(isHeldForRetry)) {
    return true
  }
  const active = findActiveStep(steps, flow.state === TransactionState.INVOKING)
  if (!active) {
    return false
  }
  return steps.some(
    (step) => step.depth === active.depth && step.definition?.store === true
  )
}

// The run stops there; only running the transaction again (from any instance) retries the step.
function isHeldForRetry(step: StoredStep): boolean {
  if (step.definition?.autoRetry !== false) {
    return false
  }
  // Checkpoint steps are plain copies (no TransactionStep methods): look at both phases.
  return [step.invoke, step.compensate].some(
    (phase) => phase?.status === TransactionStepStatus.TEMPORARY_FAILURE
  )
}

// The step furthest along the flow that is being invoked or compensated.
function findActiveStep(
  steps: StoredStep[],
  invoking: boolean
): StoredStep | undefined {
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i]
    const state = step.invoke?.state
    if (
      invoking
        ? INVOKING_STEP_STATES.has(state)
        : state === TransactionStepState.COMPENSATING
    ) {
      return step
    }
  }
  return undefined
}
