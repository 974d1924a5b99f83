import { Queryable } from "../../db"

/** The tick this instance ran is over: the next may run (concurrency "forbid"). */
export async function finishTick(
  db: Queryable,
  jobId: string,
  instanceId: string
): Promise<void> {
  await db.raw(
    `UPDATE "workflow_engine_schedule" SET "running_by" = NULL WHERE "job_id" = ? AND "running_by" = ?`,
    [jobId, instanceId]
  )
}
