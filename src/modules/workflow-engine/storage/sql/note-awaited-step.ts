import { Queryable, RunKey } from "../../db"

/**
 * Notes on the run's row that an async step's handler returned (see
 * awaited-steps). Touches no other column: an answer that already moved the
 * run on, or a run that ended and was deleted, makes it a harmless no-op.
 */
export async function noteAwaitedStep(
  db: Queryable,
  run: RunKey,
  marker: string
): Promise<void> {
  await db.raw(
    `UPDATE "workflow_execution"
        SET "awaited_steps" = array_append(COALESCE("awaited_steps", '{}'), ?::text)
      WHERE "workflow_id" = ? AND "transaction_id" = ? AND "run_id" = ?`,
    [marker, run.workflow_id, run.transaction_id, run.run_id]
  )
}
