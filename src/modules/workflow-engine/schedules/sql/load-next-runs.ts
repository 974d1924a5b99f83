import { Queryable } from "../../db"

/** The next tick of the given schedules, as the cluster has them, and whether each is used up (numberOfExecutions reached). */
export async function loadNextRuns(
  db: Queryable,
  jobIds: string[]
): Promise<{ job_id: string; next_run_at: Date; exhausted: boolean }[]> {
  const result = await db.raw(
    `SELECT "job_id", "next_run_at",
            ("options" ->> 'numberOfExecutions') IS NOT NULL
              AND "executions" >= ("options" ->> 'numberOfExecutions')::int AS "exhausted"
       FROM "workflow_engine_schedule" WHERE "job_id" = ANY(?::text[])`,
    [jobIds]
  )
  return result.rows
}
