import {
  TransactionState,
  TransactionStepState,
  TransactionStepStatus,
} from "@medusajs/framework/utils"
import {
  ROOT_STEP_ID,
  StoredStep,
  stepsOf,
  workflowSteps,
} from "../stored-flow"
import { TimerKind } from "../timers/timer-spec"
import { awaitedMarker } from "../storage/awaited-steps"
import { StoredTimer } from "./sql/adopt-run"

/**
 * What to do with a stored run whose instance died, decided from its last
 * stored checkpoint and the timers stored for it:
 * - `retry`: a background step was running in the dead process; nobody else
 *   will ever answer it, and Medusa's own retryStep re-runs it.
 * - `disown`: nothing of the run was in the dead process's hands: it waits
 *   for an answer from outside, for a manual retry, or for a timer that
 *   continues it (a retry interval, the continuation after async work). A
 *   waiting step's timeout whose timer is gone (the dead process claimed it
 *   and died before its run's write) is set again, due when it was.
 * - `resume`: the run was between steps with nothing lost (compensating, or
 *   a failed step whose retry the process died before scheduling), which
 *   continuing the transaction does exactly as a timer would.
 * - `fail`: a step was running in the process (or about to, after the last
 *   checkpoint), or an async step's handler had not returned (see
 *   storage/awaited-steps: nobody outside may have been asked to answer).
 *   What it did is unknown, so it is failed as if it had thrown, and
 *   Medusa's rules for a failed step follow: its retries if it has any left
 *   (counted from the recovery), else compensation of what was done.
 *
 * A step timeout or a transaction timeout is no continuation: it fires only
 * when its time is up, and then times the run out (or, for a run stored
 * before its first step, starts it anew). A run whose only timers are those
 * is judged by its checkpoint alone.
 */
export type RecoveryPlan =
  | { action: "retry"; stepId: string; stepName: string }
  | {
      action: "disown"
      /** step timeouts to set again: the step's id, and milliseconds from now until it times out (0: at once) */
      timeouts: { stepId: string; attempt: number; inMs: number }[]
    }
  | { action: "resume" }
  | {
      action: "fail"
      stepId: string
      stepName: string
      /** whether the checkpoint shows the step running, or only as the next to run (a run stored at its start and end only) */
      seen: "running" | "next"
      flow: any
    }

/** Timers that continue the run when they fire; the others only end it. */
const CONTINUATIONS = new Set<TimerKind>(["retry", "continue"])

/**
 * `awaited`: the row's `awaited_steps`, null when the row was stored before
 * the engine kept them (its async steps are then taken as awaiting).
 */
export function planRecovery(
  flow: any,
  timers: StoredTimer[],
  awaited: string[] | null,
  now = Date.now()
): RecoveryPlan {
  if (
    flow.state === TransactionState.WAITING_TO_COMPENSATE ||
    flow.state === TransactionState.COMPENSATING
  ) {
    return { action: "resume" }
  }
  const steps = workflowSteps(flow)
  const statusIs = (status: string) => (step: StoredStep) =>
    step.invoke.status === status
  const waiting = steps.filter(statusIs(TransactionStepStatus.WAITING))

  const background = waiting.find(
    (step) => step.definition?.backgroundExecution
  )
  if (background) {
    return {
      action: "retry",
      stepId: background.id,
      stepName: nameOf(background),
    }
  }
  // A synchronous step is shown waiting for its response while it runs in the process (an async one, for an answer).
  const running = steps.find(
    (step) =>
      step.invoke.state === TransactionStepState.INVOKING &&
      (statusIs(TransactionStepStatus.IDLE)(step) ||
        (statusIs(TransactionStepStatus.WAITING)(step) &&
          !step.definition?.async))
  )
  if (running) {
    return failPlan(flow, running, "running", now)
  }
  const unasked = waiting.find(
    (step) =>
      step.definition?.async &&
      awaited !== null &&
      !awaited.includes(awaitedMarker(step.id, step.attempts))
  )
  if (unasked) {
    return failPlan(flow, unasked, "running", now)
  }
  // Whoever answers, retries it by hand, or the timer, continues the run, and runs what comes next.
  const heldForRetry = steps.some(
    (step) =>
      statusIs(TransactionStepStatus.TEMPORARY_FAILURE)(step) &&
      step.definition?.autoRetry === false
  )
  if (
    waiting.length ||
    heldForRetry ||
    timers.some((timer) => CONTINUATIONS.has(timer.kind))
  ) {
    return { action: "disown", timeouts: lostTimeouts(waiting, timers, now) }
  }
  // A failed attempt was stored, and the process died before it set the retry's timer: continuing sets it.
  if (steps.some(statusIs(TransactionStepStatus.TEMPORARY_FAILURE))) {
    return { action: "resume" }
  }
  const next = nextToRun(flow, steps)
  return next ? failPlan(flow, next, "next", now) : { action: "resume" }
}

/** Waiting steps with a timeout and no timer left for it, and when each is due. */
function lostTimeouts(
  waiting: StoredStep[],
  timers: StoredTimer[],
  now: number
) {
  return waiting
    .filter(
      (step) =>
        step.definition?.timeout &&
        step.startedAt &&
        !timers.some(
          (timer) => timer.kind === "step_timeout" && timer.step_id === step.id
        )
    )
    .map((step) => ({
      stepId: step.id,
      attempt: step.attempts,
      inMs: Math.max(
        0,
        step.startedAt! + step.definition!.timeout! * 1000 - now
      ),
    }))
}

/** The first step the checkpoint shows as not started while all before it are done. */
function nextToRun(flow: any, steps: StoredStep[]): StoredStep | undefined {
  const parentOf = new Map<string, string>()
  for (const step of Object.values(stepsOf(flow))) {
    for (const child of step.next ?? []) {
      parentOf.set(child, step.id)
    }
  }
  return steps.find((step) => {
    if (step.invoke.state !== TransactionStepState.NOT_STARTED) {
      return false
    }
    const parent = stepsOf(flow)[parentOf.get(step.id) ?? ROOT_STEP_ID]
    return (
      parent.id === ROOT_STEP_ID ||
      parent.invoke.state === TransactionStepState.DONE
    )
  })
}

/**
 * The checkpoint as the orchestrator must load it to fail the step: the step
 * shown waiting for its answer (the only state in which Medusa accepts a
 * failure from outside), the run invoking. Its last attempt is dated now:
 * Medusa retries a step after its retryInterval only once a last attempt is
 * known, and a step cut before it ran has none.
 */
function failPlan(
  flow: any,
  step: StoredStep,
  seen: "running" | "next",
  now: number
): RecoveryPlan {
  const steps = {
    ...flow.steps,
    [step.id]: {
      ...step,
      lastAttempt: now,
      retryRescheduledAt: null,
      invoke: {
        state: TransactionStepState.INVOKING,
        status: TransactionStepStatus.WAITING,
      },
    },
  }
  return {
    action: "fail",
    stepId: step.id,
    stepName: nameOf(step),
    seen,
    flow: { ...flow, state: TransactionState.INVOKING, steps },
  }
}

/** A step's action name: what an idempotency key names it by. */
function nameOf(step: StoredStep): string {
  return step.definition?.action ?? step.id
}
