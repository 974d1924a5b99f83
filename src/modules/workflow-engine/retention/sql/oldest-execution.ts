import { Queryable } from "../../db"

/** When the oldest stored run was created; read from IDX_workflow_execution_created_at. */
export async function oldestExecutionCreatedAt(
  db: Queryable
): Promise<Date | null> {
  const result = await db.raw(
    `SELECT min("created_at") AS oldest FROM "workflow_execution" WHERE "deleted_at" IS NULL`
  )
  return result.rows[0].oldest
}
