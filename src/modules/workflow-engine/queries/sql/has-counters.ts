import { Queryable } from "../../storage/sql/types"
import { COUNT_BACKFILL, UPGRADE_TASK_TABLE } from "../../upgrade/upgrade-tasks"

/**
 * Whether the execution counters can be read as totals: "missing" before the
 * migration that adds them has run, "counting" while the online upgrade still
 * counts the rows that were there before it (the counters then hold only part
 * of them), "ready" after.
 */
export async function countersState(db: Queryable): Promise<"missing" | "counting" | "ready"> {
  const { rows } = await db.raw(
    `SELECT to_regclass('workflow_execution_count') IS NOT NULL AS present, to_regclass(?) IS NOT NULL AS tasks`,
    [UPGRADE_TASK_TABLE]
  )
  if (!rows[0].present) {
    return "missing"
  }
  if (!rows[0].tasks) {
    return "ready"
  }
  const pending = await db.raw(`SELECT 1 FROM ?? WHERE "name" = ?`, [UPGRADE_TASK_TABLE, COUNT_BACKFILL])
  return pending.rows.length ? "counting" : "ready"
}
