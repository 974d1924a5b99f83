import { Queryable } from "../../db"

/** The state of one live execution by its `wf_exec_…` id, or undefined (IDX_workflow_execution_id). */
export async function executionState(
  db: Queryable,
  id: string
): Promise<string | undefined> {
  const { rows } = await db.raw(
    `SELECT "state" FROM "workflow_execution" WHERE "id" = ? AND "deleted_at" IS NULL LIMIT 1`,
    [id]
  )
  return rows[0]?.state
}
