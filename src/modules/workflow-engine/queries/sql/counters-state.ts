import {
  COUNT_TRIGGERS,
  ENABLED_COUNT_TRIGGERS_SQL,
} from "../../storage/sql/count-triggers"
import { Queryable } from "../../db"
import { COUNT_BACKFILL, UPGRADE_TASK_TABLE } from "../../upgrade/upgrade-tasks"

/**
 * Whether the execution counters can be read as totals: "missing" before the
 * migration that adds them has run, or where the table has no triggers to
 * keep it (a schema built from the models), "counting" while the online
 * upgrade still counts the rows that were there before it (the counters then
 * hold only part of them), "ready" after.
 */
export async function countersState(
  db: Queryable
): Promise<"missing" | "counting" | "ready"> {
  const { rows } = await db.raw(
    `SELECT to_regclass('workflow_execution_count') IS NOT NULL AS present, to_regclass(?) IS NOT NULL AS tasks,
            ${ENABLED_COUNT_TRIGGERS_SQL} AS triggers`,
    [UPGRADE_TASK_TABLE]
  )
  if (!rows[0].present || rows[0].triggers < COUNT_TRIGGERS.length) {
    return "missing"
  }
  if (!rows[0].tasks) {
    return "ready"
  }
  const pending = await db.raw(`SELECT 1 FROM ?? WHERE "name" = ?`, [
    UPGRADE_TASK_TABLE,
    COUNT_BACKFILL,
  ])
  return pending.rows.length ? "counting" : "ready"
}
