import { FINISHED_STATES_SQL } from "../../transaction-states"
import { deleteClaimedSql } from "./delete-claimed"
import { Queryable } from "../../db"

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
 * - Commits without waiting for its WAL to reach the disk
 *   (`synchronous_commit` off for this statement's transaction only, set in
 *   the statement so a batch stays one round trip). A batch logs a full page
 *   image of most pages it deletes from, so a synchronous commit waits for
 *   megabytes to be flushed, batch after batch, where one DELETE of the same
 *   rows waits once. The WAL writer flushes it behind the next batch, and the
 *   pass ends with the synchronous commit of its audit record, which flushes
 *   every batch before it (WAL is flushed in order): when a pass returns,
 *   what it deleted is as durable as after one DELETE. A crash mid-pass loses
 *   at most the last batches, whole and in order, with their counter updates:
 *   those rows come back, still expired, and the next pass deletes them.
 */
export async function purgeExpiredBatch(
  db: Queryable,
  limit: number,
  from: Date | null
): Promise<{ deleted: number; reached: Date | null }> {
  const result = await db.raw(
    deleteClaimedSql(
      `SELECT ctid FROM "workflow_execution"
        WHERE "expires_at" <= now()
          AND "expires_at" >= coalesce(?::timestamptz, '-infinity')
          AND "state" IN (${FINISHED_STATES_SQL})
        ORDER BY "expires_at"
        LIMIT ?
          FOR UPDATE SKIP LOCKED`,
      `"expires_at"`,
      `count(*)::int AS deleted, max("expires_at") AS reached`
    ),
    [from, limit]
  )
  const { deleted, reached } = result.rows[0]
  return { deleted, reached }
}
