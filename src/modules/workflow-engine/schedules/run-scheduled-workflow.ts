import { Logger } from "@medusajs/framework/types"
import { MedusaError } from "@medusajs/framework/utils"
import { WorkflowRunner } from "../workflow-runner"
import { TickHandler } from "./cluster-schedules"

/** A tick of a scheduled workflow (a `src/jobs` job, say): runs it with the tick's due time as input. */
export function runScheduledWorkflow(
  logger: Logger,
  runner: () => WorkflowRunner
): TickHandler {
  return async (jobId, scheduledFor) => {
    try {
      await runner().run(jobId, {
        logOnError: true,
        throwOnError: false,
        input: { scheduledFor: scheduledFor.toISOString() },
      })
      return "ok"
    } catch (error) {
      if (
        error instanceof MedusaError &&
        error.type === MedusaError.Types.NOT_FOUND
      ) {
        logger.warn(
          `Scheduled workflow ${jobId} does not exist anymore; it was removed from the schedule.`
        )
        return "gone"
      }
      throw error
    }
  }
}
