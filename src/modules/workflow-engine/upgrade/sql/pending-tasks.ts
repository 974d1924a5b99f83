import { UPGRADE_TASK_TABLE } from "../upgrade-tasks"
import { ExecutionKey, UpgradeConnection } from "./types"

export type PendingTask = { name: string; afterKey: ExecutionKey | null }

/**
 * What the migrations left to do, oldest first. Null when the table of tasks
 * does not exist (our migrations have not run): there is nothing to finish.
 */
export async function pendingTasks(
  db: UpgradeConnection
): Promise<PendingTask[] | null> {
  const { rows: present } = await db.query(
    `SELECT to_regclass($1) IS NOT NULL AS present`,
    [UPGRADE_TASK_TABLE]
  )
  if (!present[0].present) {
    return null
  }
  const { rows } = await db.query(
    `SELECT "name", "after_key" FROM "${UPGRADE_TASK_TABLE}" ORDER BY "queued_at", "name"`
  )
  return rows.map((row) => ({
    name: row.name,
    afterKey: row.after_key as ExecutionKey | null,
  }))
}
