import { Queryable } from "./types"

/**
 * Deletes up to `limit` finished runs whose expiry has passed by the database
 * clock, oldest expiry first, in one short statement, and says how far it got.
 *
 * - Reads only IDX_workflow_execution_expires_at, from `from` on: the rows
 *   earlier batches deleted still sit in the index until vacuum, and starting
 *   behind them keeps each batch as cheap as the first.
 * - `FOR UPDATE SKIP LOCKED` lets several instances purge at once: each claims
 *   rows the others have not, so every row is deleted exactly once and nobody
 *   waits.
 */
export async function purgeExpiredBatch(
  db: Queryable,
  limit: number,
  from: Date | null
): Promise<{ deleted: number; reached: Date | null }> {
  const result = await db.raw(
    `WITH deleted AS (
       DELETE FROM "workflow_execution"
        WHERE ctid = ANY (ARRAY(
          SELECT ctid FROM "workflow_execution"
           WHERE "expires_at" <= now()
             AND "expires_at" >= coalesce(?::timestamptz, '-infinity')
             AND "state" IN ('done', 'failed', 'reverted')
           ORDER BY "expires_at"
           LIMIT ?
             FOR UPDATE SKIP LOCKED
        ))
       RETURNING "expires_at"
     )
     SELECT count(*)::int AS deleted, max("expires_at") AS reached FROM deleted`,
    [from, limit]
  )
  return result.rows[0]
}
