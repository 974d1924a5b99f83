import { AsyncLocalStorage } from "async_hooks"
import { SkipExecutionError } from "@medusajs/framework/orchestration"
import { WrittenAlong } from "../db"
import { WorkflowRunner } from "../workflow-runner"
import { TimerHandler } from "./durable-timers"
import { armedTimerConfirmedWith } from "./sql/confirm-armed-timers"
import { ClaimedTimer, TimerSpec } from "./timer-spec"

/**
 * A due timer continues its transaction: running a stored transaction id
 * again lets the orchestrator apply whatever became due (a retry, a timeout,
 * the next step after async work). Whether the timer still applies is judged
 * by the checkpoints on what that run loads and first writes (see
 * timerToJudgeOnLoad below, timer-judge and stale-timer); a stale one stops
 * the run before it acts. A timer this instance armed itself is claimed by
 * that first load (see confirmationToLoad); resolves false when it was not
 * (cleared, set again or taken over elsewhere): nothing was done. One whose
 * run ended before that load fails, to be tried again.
 */
export function fireTimer(runner: () => WorkflowRunner): TimerHandler {
  return async (timer) => {
    const firing: Firing = { timer, loaded: false, written: false }
    try {
      await firings.run(firing, () =>
        runner().run(timer.workflow_id, {
          transactionId: timer.transaction_id,
          logOnError: true,
          throwOnError: false,
          context: timer.metadata,
        })
      )
    } catch (error) {
      if (!SkipExecutionError.isSkipExecutionError(error as Error)) {
        throw error
      }
    }
    if (timer.armed && firing.confirmed === undefined) {
      // Its run ended before its load (that statement failed, say): the claim is still this instance's, and is
      // handed back for another try rather than removed with nothing done.
      throw new Error(
        `its run ended before it loaded transaction ${timer.transaction_id}`
      )
    }
    return firing.confirmed !== false
  }
}

/**
 * The timer a run was started for, while that run loads and first saves its
 * transaction. The storage judges the timer against what it reads then (the
 * checkpoint the orchestrator is about to act on, and the row under lock at
 * the run's first write, unless that write found it unchanged), not against a read made before the run: a step
 * answered between that read and the run's load was acted on twice.
 * Each check is made once, by the run's first load and its first write;
 * what the run does after that is its own progress. `confirmed`: for a timer
 * armed here, whether the run's first load claimed it (unset until then).
 */
type Firing = {
  timer: ClaimedTimer
  loaded: boolean
  written: boolean
  confirmed?: boolean
}

const firings = new AsyncLocalStorage<Firing>()

/**
 * What the first load of the run fired for an armed timer carries: the
 * timer's claim (see armedTimerConfirmedWith), one statement with the load
 * the run makes anyway. Whether it claimed it is known before the load is
 * judged (timerToJudgeOnLoad).
 */
export function confirmationToLoad(
  run: { workflowId: string; transactionId: string },
  claimedBy: string
): WrittenAlong[] {
  const current = ownFiring(run.workflowId, run.transactionId)
  if (!current?.timer.armed || current.confirmed !== undefined) {
    return []
  }
  const along = armedTimerConfirmedWith(
    { key: current.timer.key, dueAt: current.timer.due_at },
    claimedBy
  )
  return [
    {
      ...along,
      committed: (result) => {
        current.confirmed = result === true
      },
    },
  ]
}

/**
 * The armed timer of the run's firing when it is not this instance's to
 * fire: its run's load did not claim it, or the run acts before it loaded
 * (nothing claimed it). Undefined for any other timer, or none.
 */
export function unconfirmedTimer(
  workflowId: string,
  transactionId: string
): ClaimedTimer | undefined {
  const current = ownFiring(workflowId, transactionId)
  if (!current?.timer.armed || current.confirmed === true) {
    return undefined
  }
  current.confirmed = false
  return current.timer
}

/**
 * The timer whose run is loading this transaction for the first time, once.
 * Work the run starts inherits its context (background steps, sub-workflows):
 * only a load of the timer's own transaction counts.
 */
export function timerToJudgeOnLoad(
  workflowId: string,
  transactionId: string
): TimerSpec | undefined {
  return take(workflowId, transactionId, "loaded")
}

/** The same, for the run's first write of its transaction. */
export function timerToJudgeOnWrite(
  workflowId: string,
  transactionId: string
): TimerSpec | undefined {
  return take(workflowId, transactionId, "written")
}

function take(
  workflowId: string,
  transactionId: string,
  check: "loaded" | "written"
): TimerSpec | undefined {
  const current = ownFiring(workflowId, transactionId)
  if (!current || current[check]) {
    return undefined
  }
  current[check] = true
  return current.timer
}

/**
 * The firing this code runs in, when it is of the given run. Work the run
 * starts inherits its context (background steps, sub-workflows): only the
 * timer's own transaction counts.
 */
function ownFiring(
  workflowId: string,
  transactionId: string
): Firing | undefined {
  const current = firings.getStore()
  return current &&
    current.timer.workflow_id === workflowId &&
    current.timer.transaction_id === transactionId
    ? current
    : undefined
}
