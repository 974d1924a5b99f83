import { Queryable, RunKey } from "./types"

/**
 * Removes the row of a finished run that nobody asked to keep. With
 * `onlyIfUntouched`, only while the stored run is neither finished nor
 * cancelled (see update-execution). Returns whether a row was removed.
 */
export async function deleteExecution(
  db: Queryable,
  key: RunKey,
  { onlyIfUntouched }: { onlyIfUntouched: boolean }
): Promise<boolean> {
  const guard = onlyIfUntouched
    ? `AND "state" NOT IN ('done', 'failed', 'reverted')
       AND ("execution" ->> 'cancelledAt') IS NULL`
    : ""
  const result = await db.raw(
    `DELETE FROM "workflow_execution"
      WHERE "workflow_id" = ? AND "transaction_id" = ? AND "run_id" = ? ${guard}`,
    [key.workflow_id, key.transaction_id, key.run_id]
  )
  return result.rowCount === 1
}
