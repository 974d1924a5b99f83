import { Queryable } from "./types"

/**
 * Deletes up to `limit` finished runs whose expiry has passed by the database
 * clock, oldest expiry first, in one short statement. Reads only
 * IDX_workflow_execution_expires_at. `FOR UPDATE SKIP LOCKED` lets several
 * instances purge at once: each claims rows the others have not, so every row
 * is deleted exactly once and nobody waits.
 */
export async function purgeExpiredBatch(db: Queryable, limit: number): Promise<number> {
  const result = await db.raw(
    `DELETE FROM "workflow_execution"
      WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM "workflow_execution"
         WHERE "expires_at" <= now()
           AND "state" IN ('done', 'failed', 'reverted')
         ORDER BY "expires_at"
         LIMIT ?
           FOR UPDATE SKIP LOCKED
      ))`,
    [limit]
  )
  return result.rowCount ?? 0
}
