import {
  SkipExecutionError,
  TransactionFlow,
} from "@medusajs/framework/orchestration"
import { Logger } from "@medusajs/framework/types"
import {
  timerToJudgeOnLoad,
  timerToJudgeOnWrite,
  unconfirmedTimer,
} from "./fire-timer"
import { staleReason } from "./stale-timer"
import { TimerSpec } from "./timer-spec"

/**
 * The check the checkpoints make of a run started for a timer (see
 * fire-timer): at the run's first load of its transaction and at its first
 * checked write, the timer is judged against the run as stored (see
 * stale-timer); one that no longer applies stops the run, before it acts on it.
 * A first write that found the row unchanged since that load needs no second
 * judgment. An armed timer its run's load did not claim stops the run there
 * (see fire-timer).
 */
export function timerJudge(logger: Logger) {
  return (
    moment: "load" | "write" | "unchanged",
    run: { workflowId: string; transactionId: string },
    stored: TransactionFlow | undefined
  ): void => {
    const timer =
      moment === "load"
        ? timerToJudgeOnLoad(run.workflowId, run.transactionId)
        : timerToJudgeOnWrite(run.workflowId, run.transactionId)
    const unconfirmed = unconfirmedTimer(run.workflowId, run.transactionId)
    if (unconfirmed) {
      drop(
        unconfirmed,
        "it is no longer as this instance armed it (cleared, set again or taken over elsewhere)"
      )
    }
    if (moment === "unchanged") {
      return
    }
    const reason = timer && staleReason(timer, stored)
    if (reason) {
      drop(timer, reason)
    }
  }

  function drop(timer: TimerSpec, reason: string): never {
    logger.debug(`Workflow timer ${timer.key} dropped: ${reason}`)
    throw new SkipExecutionError(
      `Workflow timer ${timer.key} no longer applies: ${reason}`
    )
  }
}
