import { EXPIRED_BEFORE_BACKFILL_SQL } from "../../expiry"
import { deleteClaimedSql } from "./delete-claimed"
import { Queryable } from "../../db"

/**
 * Deletes up to `limit` finished runs past their expiry (EXPIRED_BEFORE_BACKFILL_SQL)
 * among the rows stored after `after` (a ctid, exclusive) and before page
 * `untilPage`, in one short statement, and says how far it got: the last
 * ctid it deleted when it hit `limit`, else null (it took every expired row
 * of those pages it could lock). For a table whose expiry back-fill has not
 * run yet (see retention/unfilled-purge.ts).
 *
 * - Reads those pages and nothing else (a TID range scan), whatever indexes
 *   the table has: a pass that walks the table in such ranges reads it once,
 *   as Medusa's own purge does in one statement, and needs no index an
 *   older engine may not have built.
 * - `FOR UPDATE SKIP LOCKED`, as purge-expired-batch.ts: several instances
 *   walking the table at once each delete the rows the others have not
 *   locked, every row once, nobody waits.
 * - Commits without waiting for its WAL flush, as purge-expired-batch.ts
 *   explains; the pass's audit record flushes it.
 */
export async function purgeExpiredPages(
  db: Queryable,
  limit: number,
  after: string,
  untilPage: number
): Promise<{ deleted: number; reached: string | null }> {
  const result = await db.raw(
    deleteClaimedSql(
      `SELECT ctid FROM "workflow_execution"
        WHERE ctid > ?::tid AND ctid < ?::tid
          AND ${EXPIRED_BEFORE_BACKFILL_SQL}
        ORDER BY ctid
        LIMIT ?
          FOR UPDATE SKIP LOCKED`,
      "ctid",
      "count(*)::int AS deleted, max(ctid)::text AS reached"
    ),
    [after, pageStart(untilPage), limit]
  )
  const { deleted, reached } = result.rows[0]
  return { deleted, reached: deleted === limit ? reached : null }
}

/** The ctid just before the first row of `page`: a walk that starts there reads the whole page. */
export function pageStart(page: number): string {
  return `(${page},0)`
}

/** The page a ctid points into. */
export function pageOf(ctid: string): number {
  return Number(/^\((\d+),/.exec(ctid)![1])
}
