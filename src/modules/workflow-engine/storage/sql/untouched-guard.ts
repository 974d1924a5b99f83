/**
 * Appended to the WHERE clause of an unlocked write: it applies only while the
 * stored run is neither finished nor cancelled. A concurrent finish or cancel
 * thus turns the write into a no-op the caller can detect (rowCount 0) and
 * retry under the row lock, instead of overwriting it.
 */
export const UNTOUCHED_GUARD = `
  AND "state" NOT IN ('done', 'failed', 'reverted')
  AND ("execution" ->> 'cancelledAt') IS NULL`
