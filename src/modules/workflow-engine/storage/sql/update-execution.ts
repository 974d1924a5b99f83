import { ExecutionRow, Queryable } from "./types"
import { UNTOUCHED_GUARD } from "./untouched-guard"

/**
 * Writes the latest checkpoint of a run in place.
 *
 * With `onlyIfUntouched`, see UNTOUCHED_GUARD. Returns whether a row was written.
 */
export async function updateExecution(
  db: Queryable,
  row: ExecutionRow,
  { onlyIfUntouched }: { onlyIfUntouched: boolean }
): Promise<boolean> {
  const guard = onlyIfUntouched ? UNTOUCHED_GUARD : ""
  const result = await db.raw(
    `UPDATE "workflow_execution"
        SET "execution" = ?::jsonb, "context" = ?::jsonb, "state" = ?,
            "retention_time" = ?, "updated_at" = now(),
            "expires_at" = now() + make_interval(secs => ?::int), "owner_instance_id" = ?
      WHERE "workflow_id" = ? AND "transaction_id" = ? AND "run_id" = ?
        AND "deleted_at" IS NULL ${guard}`,
    [
      JSON.stringify(row.execution),
      JSON.stringify(row.context),
      row.state,
      row.retention_time,
      row.expires_in_seconds,
      row.owner_instance_id,
      row.workflow_id,
      row.transaction_id,
      row.run_id,
    ]
  )
  return result.rowCount === 1
}
