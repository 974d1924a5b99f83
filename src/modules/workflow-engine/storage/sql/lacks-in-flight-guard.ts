import { Queryable } from "../../db"

export const IN_FLIGHT_GUARD_INDEX = "IDX_workflow_execution_in_flight_unique"

/**
 * Whether the table lacks the unique index that keeps one in-flight run per
 * transaction: the migration skips it on a table that already holds
 * duplicates. False before the table exists (migrations have not run yet).
 */
export async function lacksInFlightGuard(db: Queryable): Promise<boolean> {
  const result = await db.raw(
    `SELECT to_regclass('workflow_execution') IS NOT NULL AS has_table,
            EXISTS (
              SELECT 1 FROM pg_indexes
               WHERE schemaname = current_schema() AND tablename = 'workflow_execution' AND indexname = ?
            ) AS has_guard`,
    [IN_FLIGHT_GUARD_INDEX]
  )
  const { has_table, has_guard } = result.rows[0]
  return has_table && !has_guard
}
