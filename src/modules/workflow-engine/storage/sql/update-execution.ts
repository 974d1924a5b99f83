import { ExecutionRow, Queryable } from "./types"

/**
 * Writes the latest checkpoint of a run in place.
 *
 * With `onlyIfUntouched`, the update applies only while the stored run is
 * neither finished nor cancelled: a single statement that a concurrent cancel
 * or finish makes a no-op, so the caller can fall back to the locked path
 * instead of overwriting it. Returns whether a row was written.
 */
export async function updateExecution(
  db: Queryable,
  row: ExecutionRow,
  { onlyIfUntouched }: { onlyIfUntouched: boolean }
): Promise<boolean> {
  const guard = onlyIfUntouched
    ? `AND "state" NOT IN ('done', 'failed', 'reverted')
       AND ("execution" ->> 'cancelledAt') IS NULL`
    : ""
  const result = await db.raw(
    `UPDATE "workflow_execution"
        SET "execution" = ?::jsonb, "context" = ?::jsonb, "state" = ?,
            "retention_time" = ?, "updated_at" = now()
      WHERE "workflow_id" = ? AND "transaction_id" = ? AND "run_id" = ?
        AND "deleted_at" IS NULL ${guard}`,
    [
      JSON.stringify(row.execution),
      JSON.stringify(row.context),
      row.state,
      row.retention_time,
      row.workflow_id,
      row.transaction_id,
      row.run_id,
    ]
  )
  return result.rowCount === 1
}
