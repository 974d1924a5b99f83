import { KEPT_EXPIRY_SQL } from "../../expiry"
import { FINISHED_STATES_SQL } from "../../transaction-states"
import { Queryable } from "../../db"

export type KeptExecutionRow = {
  id: string
  state: string
  kept_at: Date
  kept_by: string | null
  kept_reason: string
  /** The expiry set aside, which an undo gives back (null: it had none). */
  kept_expires_at: Date | null
}

/**
 * Keeps a finished run from the purge: its expiry goes aside into
 * kept_expires_at and `expires_at` becomes KEPT_EXPIRY_SQL. One conditional
 * UPDATE: a purge that claimed the row first (FOR UPDATE SKIP LOCKED) deletes
 * it and this matches nothing; one that comes after sees the new expiry. A
 * run kept already keeps its first set-aside expiry (only who and why
 * change), so keeping twice never loses it. Returns nothing when the id is
 * not a live finished run.
 */
export async function keepExecution(
  db: Queryable,
  id: string,
  keptBy: string | null,
  reason: string
): Promise<KeptExecutionRow | undefined> {
  const { rows } = await db.raw(
    `UPDATE "workflow_execution"
        SET "kept_expires_at" = CASE WHEN "kept_at" IS NULL THEN "expires_at" ELSE "kept_expires_at" END,
            "expires_at" = ${KEPT_EXPIRY_SQL},
            "kept_at" = now(),
            "kept_by" = ?,
            "kept_reason" = ?
      WHERE "id" = ? AND "deleted_at" IS NULL
        AND "state" IN (${FINISHED_STATES_SQL})
      RETURNING "id", "state", "kept_at", "kept_by", "kept_reason", "kept_expires_at"`,
    [keptBy, reason, id]
  )
  return rows[0]
}
