import { Queryable } from "../../db"
import { SCHEDULE_CHANNEL } from "../../notifications/channels"

/**
 * Registers a schedule for the cluster; every instance that has the job does
 * so at start. Unchanged options keep the stored next tick and count (so a
 * tick missed while every instance was down runs once, then the schedule goes
 * on from now); changed options start over from `firstRunAt`. The other
 * instances are told (NOTIFY) to re-read their schedules.
 */
export async function registerSchedule(
  db: Queryable,
  jobId: string,
  options: unknown,
  firstRunAt: Date
): Promise<{ next_run_at: Date }> {
  const result = await db.raw(
    `WITH "registered" AS (
       INSERT INTO "workflow_engine_schedule" AS s ("job_id", "options", "next_run_at")
       VALUES (?, ?::jsonb, ?)
       ON CONFLICT ("job_id") DO UPDATE
         SET "options" = EXCLUDED."options",
             "next_run_at" = CASE WHEN s."options" = EXCLUDED."options" THEN s."next_run_at" ELSE EXCLUDED."next_run_at" END,
             "executions" = CASE WHEN s."options" = EXCLUDED."options" THEN s."executions" ELSE 0 END,
             "updated_at" = now()
       RETURNING "next_run_at"
     )
     SELECT "next_run_at", pg_notify(?, ?) FROM "registered"`,
    [jobId, JSON.stringify(options), firstRunAt, SCHEDULE_CHANNEL, jobId]
  )
  return result.rows[0]
}
