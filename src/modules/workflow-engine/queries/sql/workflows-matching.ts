import { Queryable } from "../../storage/sql/types"

/**
 * The workflow ids of live executions that contain `pattern`. The counters
 * hold each (workflow, state) group once, so this reads a few hundred rows,
 * however large the table is.
 */
export async function workflowsMatching(db: Queryable, pattern: string): Promise<string[]> {
  const { rows } = await db.raw(
    `SELECT "workflow_id"
       FROM "workflow_execution_count"
      WHERE "workflow_id" ILIKE ?
      GROUP BY "workflow_id"
     HAVING sum("executions") > 0`,
    [pattern]
  )
  return rows.map((row: { workflow_id: string }) => row.workflow_id)
}
