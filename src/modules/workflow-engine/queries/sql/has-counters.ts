import { Queryable } from "../../storage/sql/types"

/** Whether the migration that adds the execution counters has run on this database. */
export async function hasCounters(db: Queryable): Promise<boolean> {
  const { rows } = await db.raw(`SELECT to_regclass('workflow_execution_count') IS NOT NULL AS present`)
  return rows[0].present
}
