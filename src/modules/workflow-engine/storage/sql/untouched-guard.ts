import { FINISHED_STATES_SQL } from "../../transaction-states"

/**
 * Appended to the WHERE clause of an unlocked write: it applies only while the
 * stored run is neither finished nor cancelled. A concurrent finish or cancel
 * thus turns the write into a no-op the caller can detect (rowCount 0) and
 * retry under the row lock, instead of overwriting it.
 */
export const UNTOUCHED_GUARD = `
  AND "state" NOT IN (${FINISHED_STATES_SQL})
  AND ("execution" ->> 'cancelledAt') IS NULL`
