import { Queryable, RunKey } from "../../db"
import { UNTOUCHED_GUARD } from "./untouched-guard"

/**
 * Removes the row of a finished run that nobody asked to keep, while the run
 * is still at the writer's epoch (see fencing.ts). With `onlyIfUntouched`,
 * see UNTOUCHED_GUARD. Returns whether a row was removed.
 */
export async function deleteExecution(
  db: Queryable,
  key: RunKey,
  { onlyIfUntouched, epoch }: { onlyIfUntouched: boolean; epoch: number }
): Promise<boolean> {
  const guard = onlyIfUntouched ? UNTOUCHED_GUARD : ""
  const result = await db.raw(
    `DELETE FROM "workflow_execution"
      WHERE "workflow_id" = ? AND "transaction_id" = ? AND "run_id" = ? AND "owner_epoch" = ? ${guard}`,
    [key.workflow_id, key.transaction_id, key.run_id, epoch]
  )
  return result.rowCount === 1
}
