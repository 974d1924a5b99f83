import { Queryable } from "./types"

/**
 * Claims the next scheduled purge pass for the whole cluster: a
 * compare-and-set on the schedule row. Every instance asks every minute;
 * the one whose statement moves `next_run_at` forward runs the pass, and the
 * others see it not yet due. The first call creates the row and claims.
 */
export async function claimScheduledPurge(db: Queryable, intervalSeconds: number): Promise<boolean> {
  const result = await db.raw(
    `INSERT INTO "workflow_execution_purge_schedule" ("name", "next_run_at")
     VALUES ('expired-executions', now() + make_interval(secs => ?))
     ON CONFLICT ("name") DO UPDATE
        SET "next_run_at" = EXCLUDED."next_run_at"
      WHERE "workflow_execution_purge_schedule"."next_run_at" <= now()
     RETURNING "next_run_at"`,
    [intervalSeconds]
  )
  return result.rows.length === 1
}
