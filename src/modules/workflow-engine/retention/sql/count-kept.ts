import { KEPT_EXPIRY_SQL } from "../../expiry"
import { Queryable } from "../../db"

/**
 * How many runs are kept, and how many of those would have expired by now
 * (the purge skips them). Reads IDX_workflow_execution_expires_at at its
 * KEPT_EXPIRY_SQL end only, so it costs what the kept runs cost.
 */
export async function countKept(
  db: Queryable
): Promise<{ kept: number; kept_expired: number }> {
  const { rows } = await db.raw(
    `SELECT count(*)::int AS kept,
            count(*) FILTER (WHERE "kept_expires_at" <= now())::int AS kept_expired
       FROM "workflow_execution"
      WHERE "expires_at" = ${KEPT_EXPIRY_SQL}`
  )
  return rows[0]
}
