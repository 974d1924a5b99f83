import { SkipExecutionError } from "@medusajs/framework/orchestration"
import { WorkflowRunner } from "../workflow-runner"
import { TimerHandler } from "./durable-timers"
import { runForTimer } from "./firing-timer"

/**
 * A due timer continues its transaction: running a stored transaction id
 * again lets the orchestrator apply whatever became due (a retry, a timeout,
 * the next step after async work). Whether the timer still applies is judged
 * by the storage on what that run loads and first writes (see firing-timer,
 * stale-timer); a stale one stops the run before it acts.
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
