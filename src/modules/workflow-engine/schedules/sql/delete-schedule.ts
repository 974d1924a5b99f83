import { Queryable } from "../../db"

/** Removes a schedule for the whole cluster. */
export async function deleteSchedule(
  db: Queryable,
  jobId: string
): Promise<void> {
  await db.raw(`DELETE FROM "workflow_engine_schedule" WHERE "job_id" = ?`, [
    jobId,
  ])
}
