import { FINISHED_STATES, STEP_FINISHED_STATES } from "../transaction-states"
import { TimerTarget } from "./sql/load-timer-target"
import { isCompensationTimer } from "./timer-keys"
import { TimerSpec } from "./timer-spec"

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
  // The phase the timer was set for: the stored run may not show the compensation begun yet.
  const phase = isCompensationTimer(timer.key) ? step.compensate : step.invoke
  if (STEP_FINISHED_STATES.has(phase?.state)) {
    return `step ${timer.step_id} already ended (${phase?.state})`
  }
  // The stored step may lag behind the run that set the timer (its checkpoint is written after
  // the timer is set), so only what cannot be undone counts: an end, or a later attempt.
  if (timer.kind === "retry" && timer.attempt !== null && Number(step.attempts) > timer.attempt) {
    return `step ${timer.step_id} was retried already (attempt ${step.attempts})`
  }
  return null
}
