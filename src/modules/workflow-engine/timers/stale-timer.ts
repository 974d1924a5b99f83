import { TransactionState, TransactionStepStatus } from "@medusajs/framework/utils"
import { FINISHED_STATES, STEP_FINISHED_STATES } from "../transaction-states"
import { TimerTarget } from "./sql/load-timer-target"
import { TimerSpec } from "./timer-spec"

const RETRYABLE_STATUSES = new Set<string>([
  TransactionStepStatus.TEMPORARY_FAILURE,
  TransactionStepStatus.WAITING,
])

/**
 * Why a timer no longer applies to its run, or null when it does. A timer
 * that fires after its step or run moved on must not act: re-running a
 * finished transaction id would start it anew, and a retry of a step that
 * already succeeded would try to fail it again.
 */
export function staleReason(timer: TimerSpec, target: TimerTarget | undefined): string | null {
  if (!target) {
    return "its run is no longer stored"
  }
  if (FINISHED_STATES.has(target.state)) {
    return `its run already ended (${target.state})`
  }
  if (timer.kind === "continue" || timer.kind === "transaction_timeout") {
    return null
  }

  const step = target.step
  if (!step) {
    return `step ${timer.step_id} is not in the run`
  }
  const phase = target.state === TransactionState.COMPENSATING ? step.compensate : step.invoke
  if (STEP_FINISHED_STATES.has(phase?.state)) {
    return `step ${timer.step_id} already ended (${phase?.state})`
  }
  if (timer.kind === "retry") {
    if (!RETRYABLE_STATUSES.has(phase?.status)) {
      return `step ${timer.step_id} is not waiting for a retry (${phase?.status})`
    }
    if (timer.attempt !== null && Number(step.attempts) > timer.attempt) {
      return `step ${timer.step_id} was retried already (attempt ${step.attempts})`
    }
  }
  return null
}
