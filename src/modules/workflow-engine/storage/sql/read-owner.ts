import { Queryable, RunKey } from "../../db"
import { StoredOwner } from "./types"

/**
 * The run's epoch and owner, for an execution that must know it still owns
 * the run before it goes on (its instance's lease lapsed since it loaded it).
 * FOR SHARE waits for a recovery that holds the row, so a takeover being
 * committed is seen, not missed.
 */
export async function readOwner(
  db: Queryable,
  key: RunKey
): Promise<StoredOwner | undefined> {
  const result = await db.raw(
    `SELECT "owner_epoch", "owner_instance_id"
       FROM "workflow_execution"
      WHERE "workflow_id" = ? AND "transaction_id" = ? AND "run_id" = ? AND "deleted_at" IS NULL
      FOR SHARE`,
    [key.workflow_id, key.transaction_id, key.run_id]
  )
  return result.rows[0]
}
