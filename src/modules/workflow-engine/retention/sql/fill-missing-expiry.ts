import { MEDUSA_EXPIRY_SQL } from "../../expiry"
import { FINISHED_STATES_SQL } from "../../transaction-states"
import { Queryable } from "../../db"

/**
 * Gives up to `limit` finished rows that have a retention but no expiry the
 * expiry Medusa's engines would have given them (updated_at + retention_time).
 * Such rows come from instances still running Medusa's engine during a rolling
 * deploy; this engine sets the expiry itself when a run finishes. Reads only
 * IDX_workflow_execution_missing_expiry, which is empty in steady state; SKIP
 * LOCKED for the same reason as the purge.
 */
export async function fillMissingExpiry(
  db: Queryable,
  limit: number
): Promise<number> {
  const result = await db.raw(
    `UPDATE "workflow_execution"
        SET "expires_at" = ${MEDUSA_EXPIRY_SQL}
      WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM "workflow_execution"
         WHERE "expires_at" IS NULL
           AND "retention_time" IS NOT NULL
           AND "state" IN (${FINISHED_STATES_SQL})
         LIMIT ?
           FOR UPDATE SKIP LOCKED
      ))`,
    [limit]
  )
  return result.rowCount ?? 0
}
