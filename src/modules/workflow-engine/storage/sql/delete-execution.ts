import { Queryable, RunKey } from "./types"
import { UNTOUCHED_GUARD } from "./untouched-guard"

/**
 * Removes the row of a finished run that nobody asked to keep. With
 * `onlyIfUntouched`, see UNTOUCHED_GUARD. Returns whether a row was removed.
 */
export async function deleteExecution(
  db: Queryable,
  key: RunKey,
  { onlyIfUntouched }: { onlyIfUntouched: boolean }
): Promise<boolean> {
  const guard = onlyIfUntouched ? UNTOUCHED_GUARD : ""
  const result = await db.raw(
    `DELETE FROM "workflow_execution"
      WHERE "workflow_id" = ? AND "transaction_id" = ? AND "run_id" = ? ${guard}`,
    [key.workflow_id, key.transaction_id, key.run_id]
  )
  return result.rowCount === 1
}
