import { AsyncLocalStorage } from "async_hooks"
import { SkipExecutionError } from "@medusajs/framework/orchestration"
import { WorkflowRunner } from "../workflow-runner"
import { TimerHandler } from "./durable-timers"
import { TimerSpec } from "./timer-spec"

/**
 * A due timer continues its transaction: running a stored transaction id
 * again lets the orchestrator apply whatever became due (a retry, a timeout,
 * the next step after async work). Whether the timer still applies is judged
 * by the checkpoints on what that run loads and first writes (see
 * timerToJudgeOnLoad below, timer-judge and stale-timer); a stale one stops
 * the run before it acts.
 */
export function fireTimer(runner: () => WorkflowRunner): TimerHandler {
  return async (timer) => {
    try {
      await runForTimer(timer, () =>
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
  }
}

/**
 * The timer a run was started for, while that run loads and first saves its
 * transaction. The storage judges the timer against what it reads then (the
 * checkpoint the orchestrator is about to act on, and the row under lock at
 * the run's first write, unless that write found it unchanged), not against a read made before the run: a step
 * answered between that read and the run's load was acted on twice.
 * Each check is made once, by the run's first load and its first write;
 * what the run does after that is its own progress.
 */
type Firing = { timer: TimerSpec; loaded: boolean; written: boolean }

const firing = new AsyncLocalStorage<Firing>()

function runForTimer<T>(timer: TimerSpec, work: () => Promise<T>): Promise<T> {
  return firing.run({ timer, loaded: false, written: false }, work)
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
  const current = firing.getStore()
  if (
    !current ||
    current[check] ||
    current.timer.workflow_id !== workflowId ||
    current.timer.transaction_id !== transactionId
  ) {
    return undefined
  }
  current[check] = true
  return current.timer
}
