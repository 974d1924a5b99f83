import { ClusterSchedules } from "../schedules/cluster-schedules"
import { StuckScan } from "./stuck-scan"

/** The cluster schedule of the stuck scan; a name no workflow can have. */
export const STUCK_SCAN_SCHEDULE_ID = "workflow-engine:report-stuck-runs"

// A stall is reported at most this long after it reaches stuckAfterSeconds.
const MAX_SCAN_INTERVAL_SECONDS = 60

/**
 * Schedules the stuck scan once per cluster, every minute (or every
 * `stuckAfterSeconds` when shorter); 0 leaves it unscheduled.
 */
export async function scheduleStuckScan(
  schedules: ClusterSchedules,
  scan: StuckScan,
  stuckAfterSeconds: number
): Promise<void> {
  if (stuckAfterSeconds === 0) {
    return
  }
  const seconds = Math.min(stuckAfterSeconds, MAX_SCAN_INTERVAL_SECONDS)
  await schedules.schedule(
    STUCK_SCAN_SCHEDULE_ID,
    { interval: seconds * 1000, concurrency: "forbid" },
    async () => {
      await scan.scanNow()
      return "ok"
    }
  )
}
