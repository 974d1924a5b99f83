import { Queryable } from "../../db"
import { isInFlightRow } from "../../transaction-states"

/**
 * Notes on the run's row in flight (one at most: the in-flight unique index)
 * that an async step's handler returned (see awaited-steps). Touches no
 * other column: a run that ended meanwhile, or was deleted, makes it a
 * harmless no-op.
 */
export async function noteAwaitedStep(
  db: Queryable,
  run: { workflow_id: string; transaction_id: string },
  marker: string
): Promise<void> {
  await db.raw(
    `UPDATE "workflow_execution" e
        SET "awaited_steps" = array_append(COALESCE(e."awaited_steps", '{}'), ?::text)
      WHERE e."workflow_id" = ? AND e."transaction_id" = ? AND ${isInFlightRow("e")}`,
    [marker, run.workflow_id, run.transaction_id]
  )
}
