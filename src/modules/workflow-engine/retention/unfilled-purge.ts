import { pageOf, pageStart, purgeExpiredPages } from "./sql/purge-expired-pages"
import { tablePages } from "./sql/table-pages"
import { Queryable } from "../db"
import { FIRST_BATCH_SIZE, nextBatchSize, PurgeProgress } from "./purge-batches"

/** Fewest pages a batch reads. */
const MIN_SPAN_PAGES = 8

/**
 * A purge pass on a table whose expiry the online upgrade has not filled in
 * yet (a store that just switched from Medusa's engine: `expires_at` NULL on
 * every old row, and neither of its indexes built; see upgrade/). It walks
 * the table's pages once, from the first to the last there was when it
 * started, deleting in each span of pages the rows that expired by the rule
 * the back-fill will apply (sql/purge-expired-pages.ts): what
 * Medusa's own purge reads, in batches of short transactions.
 *
 * A span holds about FIRST_BATCH_SIZE rows at first (from the table's
 * statistics) and then grows or shrinks to keep each batch short; a batch
 * deletes at most `maxBatchSize` rows, and the pass at most `maxRows`. Rows
 * that move behind the walk while it runs (an update that finishes a run,
 * the back-fill's own writes) are left to the next pass.
 */
export async function purgeUnfilled(
  db: Queryable,
  maxBatchSize: number,
  maxRows: number | undefined,
  progress: PurgeProgress
): Promise<void> {
  const { pages, rowsPerPage } = await tablePages(db)
  let span = Math.max(
    MIN_SPAN_PAGES,
    Math.ceil(FIRST_BATCH_SIZE / (rowsPerPage ?? 1))
  )
  let after = pageStart(0)
  while (
    pageOf(after) < pages &&
    (maxRows === undefined || progress.deleted < maxRows)
  ) {
    const limit =
      maxRows === undefined
        ? maxBatchSize
        : Math.min(maxBatchSize, maxRows - progress.deleted)
    const untilPage = Math.min(pages, pageOf(after) + span)
    const batchStarted = performance.now()
    const { deleted, reached } = await purgeExpiredPages(
      db,
      limit,
      after,
      untilPage
    )
    const elapsed = performance.now() - batchStarted
    progress.longest = Math.max(progress.longest, elapsed)
    if (deleted > 0) {
      progress.batches++
      progress.deleted += deleted
    }
    after = reached ?? pageStart(untilPage)
    span = nextBatchSize(
      span,
      elapsed,
      MIN_SPAN_PAGES,
      Math.max(MIN_SPAN_PAGES, maxBatchSize)
    )
  }
}
