/** How long a purge batch should hold its locks, at most, in ms. */
export const TARGET_BATCH_MS = 50
export const FIRST_BATCH_SIZE = 1000
export const MIN_BATCH_SIZE = 100

/**
 * The next batch's size (rows, or pages for a walk through the table): it
 * grows while batches stay well under TARGET_BATCH_MS and shrinks when one
 * takes longer, between `min` and `max`, so no batch holds its locks for
 * long whatever the rows and the machine.
 */
export function nextBatchSize(
  size: number,
  elapsedMs: number,
  min: number,
  max: number
): number {
  if (elapsedMs > TARGET_BATCH_MS) {
    return Math.max(min, Math.floor((size * TARGET_BATCH_MS) / elapsedMs))
  }
  if (elapsedMs < TARGET_BATCH_MS / 2) {
    return Math.min(max, size * 2)
  }
  return size
}

/** What a purge pass has done so far. */
export type PurgeProgress = {
  deleted: number
  batches: number
  longest: number
}
