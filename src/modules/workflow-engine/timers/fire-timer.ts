import { SkipExecutionError } from "@medusajs/framework/orchestration"
import { Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { WorkflowRunner } from "../workflow-runner"
import { TimerHandler } from "./durable-timers"
import { loadTimerTarget } from "./sql/load-timer-target"
import { staleReason } from "./stale-timer"

/**
 * A due timer continues its transaction: running a stored transaction id
 * again lets the orchestrator apply whatever became due (a retry, a timeout,
 * the next step after async work). A timer whose step or run moved on is
 * dropped instead (see stale-timer).
 */
export function fireTimer(db: Knex, logger: Logger, runner: () => WorkflowRunner): TimerHandler {
  return async (timer) => {
    const reason = staleReason(timer, await loadTimerTarget(db, timer.workflow_id, timer.transaction_id, timer.step_id))
    if (reason) {
      logger.debug(`Workflow timer ${timer.key} dropped: ${reason}`)
      return
    }
    try {
      await runner().run(timer.workflow_id, {
        transactionId: timer.transaction_id,
        logOnError: true,
        throwOnError: false,
        context: timer.metadata,
      })
    } catch (error) {
      if (!SkipExecutionError.isSkipExecutionError(error as Error)) {
        throw error
      }
    }
  }
}
