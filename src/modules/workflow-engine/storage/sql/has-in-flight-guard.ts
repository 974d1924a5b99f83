import { Queryable } from "./types"

export const IN_FLIGHT_GUARD_INDEX = "IDX_workflow_execution_in_flight_unique"

/**
 * Whether the unique index that keeps one in-flight run per transaction
 * exists: the migration skips it on a table that already holds duplicates.
 */
export async function hasInFlightGuard(db: Queryable): Promise<boolean> {
  const result = await db.raw(
    `SELECT 1 FROM pg_indexes
      WHERE schemaname = current_schema() AND tablename = 'workflow_execution' AND indexname = ?`,
    [IN_FLIGHT_GUARD_INDEX]
  )
  return result.rows.length > 0
}
