import { EXPIRED_BEFORE_BACKFILL_SQL } from "../../expiry"
import { FINISHED_STATES_SQL } from "../../transaction-states"
import { Queryable } from "../../db"

/**
 * How many finished runs a purge would delete now, counting at most `limit`.
 * `beforeBackfill`: on a table whose expiry back-fill has not run yet, by the
 * rule it will apply (EXPIRED_BEFORE_BACKFILL_SQL), read from the table's
 * rows in one pass; otherwise from IDX_workflow_execution_expires_at.
 */
export async function countExpired(
  db: Queryable,
  limit: number | null,
  beforeBackfill = false
): Promise<number> {
  const expired = beforeBackfill
    ? EXPIRED_BEFORE_BACKFILL_SQL
    : `"expires_at" <= now() AND "state" IN (${FINISHED_STATES_SQL})`
  const result = await db.raw(
    `SELECT count(*)::int AS expired FROM (
       SELECT 1 FROM "workflow_execution"
        WHERE ${expired}
        LIMIT ?
     ) AS expired`,
    [limit]
  )
  return result.rows[0].expired
}
