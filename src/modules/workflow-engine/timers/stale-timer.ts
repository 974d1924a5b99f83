import { TransactionFlow } from "@medusajs/framework/orchestration"
import { StoredStep, stepsOf } from "../stored-flow"
import { FINISHED_STATES, STEP_FINISHED_STATES } from "../transaction-states"
import { isCompensationTimer } from "./timer-keys"
import { TimerSpec } from "./timer-spec"

/**
 * Why a timer no longer applies to the run it was set for, or null when it
 * does; `flow` is the run as its timer's run loaded it (undefined: nothing
 * in flight is stored). A timer that acts after its step or run moved on
 * does harm: a run that ended starts anew, a step answered meanwhile is
 * invoked again and the run continued twice, a retry of a step that already
 * succeeded tries to fail it.
 */
export function staleReason(
  timer: TimerSpec,
  flow: TransactionFlow | undefined
): string | null {
  if (!flow) {
    return "its run is no longer stored"
  }
  if (FINISHED_STATES.has(flow.state)) {
    return `its run already ended (${flow.state})`
  }
  if (timer.kind === "transaction_timeout" || !timer.step_id) {
    return null
  }

  const step = stepsOf(flow)[timer.step_id] as StoredStep | undefined
  if (!step) {
    return `step ${timer.step_id} is not in the run`
  }
  const forCompensation = isCompensationTimer(timer.key)
  // Compensation began after the timer was set for the step's invoke: the invoke's timers are done with.
  if (!forCompensation && step.stepFailed) {
    return `step ${timer.step_id} is being compensated`
  }
  if (timer.kind === "continue") {
    return null
  }
  // A compensation timer may find the compensation not begun in the stored run (compensation checkpoints
  // are not all written); what the stored run shows to have ended, or to be at a later attempt, stays final.
  const phase = forCompensation ? step.compensate : step.invoke
  if (STEP_FINISHED_STATES.has(phase?.state)) {
    return `step ${timer.step_id} already ended (${phase?.state})`
  }
  const samePhase = forCompensation === !!step.stepFailed
  if (
    timer.kind === "retry" &&
    samePhase &&
    timer.attempt !== null &&
    Number(step.attempts) > timer.attempt
  ) {
    return `step ${timer.step_id} was retried already (attempt ${step.attempts})`
  }
  return null
}
