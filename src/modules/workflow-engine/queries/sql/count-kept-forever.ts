import { FINISHED_STATES_SQL } from "../../transaction-states"
import { Queryable } from "../../db"

/**
 * "The row is a finished run no purge deletes": neither a retention nor an
 * expiry. The predicate of IDX_workflow_execution_kept_forever; literals, not
 * parameters, so the planner matches it against the index.
 */
export const KEPT_FOREVER_SQL = `"expires_at" IS NULL AND "retention_time" IS NULL
        AND "state" IN (${FINISHED_STATES_SQL})
        AND "deleted_at" IS NULL`

/** Finished runs kept forever (KEPT_FOREVER_SQL), per workflow, read from IDX_workflow_execution_kept_forever. */
export async function countKeptForever(
  db: Queryable
): Promise<Map<string, number>> {
  const { rows } = await db.raw(
    `SELECT "workflow_id", count(*)::bigint AS executions
       FROM "workflow_execution"
      WHERE ${KEPT_FOREVER_SQL}
      GROUP BY "workflow_id"`
  )
  return new Map(
    rows.map((row: { workflow_id: string; executions: string }) => [
      row.workflow_id,
      Number(row.executions),
    ])
  )
}
