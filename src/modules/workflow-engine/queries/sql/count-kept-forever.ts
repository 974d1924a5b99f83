import { FINISHED_STATES } from "../../transaction-states"
import { Queryable } from "../../storage/sql/types"

// Literals, not parameters: the planner matches them against the index predicate.
const FINISHED_STATE_LITERALS = [...FINISHED_STATES].map((state) => `'${state}'`).join(", ")

/**
 * Finished runs with neither a retention nor an expiry, per workflow: no
 * purge deletes them. The condition is the predicate of
 * IDX_workflow_execution_kept_forever, which holds only these rows.
 */
export async function countKeptForever(db: Queryable): Promise<Map<string, number>> {
  const { rows } = await db.raw(
    `SELECT "workflow_id", count(*)::bigint AS executions
       FROM "workflow_execution"
      WHERE "expires_at" IS NULL AND "retention_time" IS NULL
        AND "state" IN (${FINISHED_STATE_LITERALS})
        AND "deleted_at" IS NULL
      GROUP BY "workflow_id"`
  )
  return new Map(rows.map((row: { workflow_id: string; executions: string }) => [row.workflow_id, Number(row.executions)]))
}
