import { Queryable } from "../../db"

/**
 * Ends a lease at once, on a clean shutdown. The row stays, dead, until an
 * instance has taken over what this one still owns (runs waiting for an
 * answer) and reaps it.
 */
export async function endLease(db: Queryable, id: string): Promise<void> {
  await db.raw(
    `UPDATE "workflow_engine_instance" SET "lease_expires_at" = now() WHERE "id" = ?`,
    [id]
  )
}
