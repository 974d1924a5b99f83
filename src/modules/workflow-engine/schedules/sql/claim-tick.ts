import { isLive } from "../../instances/sql/live-instance"
import { Queryable } from "../../db"

export type TickClaim = {
  /** When the claimed tick was due; null when this instance did not move the schedule. */
  scheduled_for: Date | null
  /** Whether the tick runs: false when it was skipped because the previous one still runs. */
  runs: boolean | null
  /** The schedule's next tick as committed before this statement; null when the schedule is gone or used up. */
  next_run_at: Date | null
}

/**
 * Moves a due schedule to its next tick; the one instance whose statement
 * moves it runs the tick, so each tick runs once across the cluster. The row
 * lock (SKIP LOCKED) and the `next_run_at <= now` check make concurrent
 * claimers see it either due and free, or already moved. With concurrency
 * "forbid", a tick while the previous one's runner is alive is skipped (the
 * schedule still moves on), unless the runner is the claimer and its tick is
 * over (`runningHere` false): its mark outlived a finish the database failed.
 * `numberOfExecutions` counts for the cluster.
 */
export async function claimTick(
  db: Queryable,
  claim: {
    jobId: string
    instanceId: string
    nextRunAt: Date
    allowConcurrent: boolean
    limit: number | null
    runningHere: boolean
  }
): Promise<TickClaim> {
  const result = await db.raw(
    `WITH "due" AS (
       SELECT "job_id", "next_run_at" AS "scheduled_for",
              ("running_by" IS NULL OR ?::boolean
               OR ("running_by" = ? AND NOT ?::boolean)
               OR NOT ${isLive(`"workflow_engine_schedule"."running_by"`)}) AS "free"
         FROM "workflow_engine_schedule"
        WHERE "job_id" = ? AND "next_run_at" <= clock_timestamp()
          AND (?::int IS NULL OR "executions" < ?::int)
        FOR UPDATE SKIP LOCKED
     ), "moved" AS (
       UPDATE "workflow_engine_schedule" s
          SET "next_run_at" = ?,
              "executions" = s."executions" + CASE WHEN "due"."free" THEN 1 ELSE 0 END,
              "running_by" = CASE WHEN "due"."free" AND NOT ?::boolean THEN ? ELSE s."running_by" END,
              "last_run_at" = CASE WHEN "due"."free" THEN clock_timestamp() ELSE s."last_run_at" END
         FROM "due"
        WHERE s."job_id" = "due"."job_id"
       RETURNING "due"."scheduled_for", "due"."free"
     )
     SELECT (SELECT "scheduled_for" FROM "moved") AS "scheduled_for",
            (SELECT "free" FROM "moved") AS "runs",
            (SELECT "next_run_at" FROM "workflow_engine_schedule"
              WHERE "job_id" = ? AND (?::int IS NULL OR "executions" < ?::int)) AS "next_run_at"`,
    [
      claim.allowConcurrent,
      claim.instanceId,
      claim.runningHere,
      claim.jobId,
      claim.limit,
      claim.limit,
      claim.nextRunAt,
      claim.allowConcurrent,
      claim.instanceId,
      claim.jobId,
      claim.limit,
      claim.limit,
    ]
  )
  return result.rows[0]
}
