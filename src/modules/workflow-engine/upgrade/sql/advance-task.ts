import { UPGRADE_TASK_TABLE } from "../upgrade-tasks"
import { ExecutionKey, UpgradeConnection } from "./types"

/**
 * Records how far a back-fill got (in the batch's own transaction, so a
 * crash resumes after the last committed batch), or forgets a finished task
 * (`through` null: the batch took every row left).
 */
export async function advanceTask(
  db: UpgradeConnection,
  name: string,
  through: ExecutionKey | null
): Promise<void> {
  if (through) {
    await db.query(
      `UPDATE "${UPGRADE_TASK_TABLE}" SET "after_key" = $2 WHERE "name" = $1`,
      [name, through]
    )
  } else {
    await db.query(`DELETE FROM "${UPGRADE_TASK_TABLE}" WHERE "name" = $1`, [
      name,
    ])
  }
}
