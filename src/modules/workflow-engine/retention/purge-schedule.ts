import { Logger } from "@medusajs/framework/types"
import { ExecutionRetention } from "./execution-retention"
import { ClusterSchedules } from "../schedules/cluster-schedules"

/** The cluster schedule of the expired-execution purge; a name no workflow can have. */
export const PURGE_SCHEDULE_ID = "workflow-engine:purge-expired-executions"

/**
 * Schedules the purge every `intervalSeconds`, once per cluster, like any
 * other schedule; 0 leaves it unscheduled (the service method still purges).
 */
export async function schedulePurge(
  schedules: ClusterSchedules,
  retention: ExecutionRetention,
  logger: Logger,
  intervalSeconds: number
): Promise<void> {
  if (intervalSeconds === 0) {
    return
  }
  await schedules.schedule(
    PURGE_SCHEDULE_ID,
    { interval: intervalSeconds * 1000, concurrency: "forbid" },
    async () => {
      const result = await retention.purgeExpired({}, "job")
      logger.info(
        `Purged ${result.deleted} expired workflow executions in ${result.batches} batches, ` +
          `${result.duration_ms} ms (longest batch ${result.longest_batch_ms} ms)`
      )
      return "ok"
    }
  )
}
