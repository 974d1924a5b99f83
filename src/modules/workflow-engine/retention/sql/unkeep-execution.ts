import { Queryable } from "../../db"

/**
 * Stops keeping a run: its own expiry comes back from kept_expires_at (a run
 * already past it is deleted by the next purge pass) and who kept it and why
 * are cleared. Conditional on the run being kept, so an undo of an undo
 * changes nothing. Returns the expiry it got back, or nothing when the id is
 * not a live kept run.
 */
export async function unkeepExecution(
  db: Queryable,
  id: string
): Promise<{ id: string; expires_at: Date | null } | undefined> {
  const { rows } = await db.raw(
    `UPDATE "workflow_execution"
        SET "expires_at" = "kept_expires_at",
            "kept_expires_at" = NULL,
            "kept_at" = NULL,
            "kept_by" = NULL,
            "kept_reason" = NULL
      WHERE "id" = ? AND "deleted_at" IS NULL AND "kept_at" IS NOT NULL
      RETURNING "id", "expires_at"`,
    [id]
  )
  return rows[0]
}
