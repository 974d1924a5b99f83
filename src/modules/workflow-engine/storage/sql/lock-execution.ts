import { Queryable, RunKey } from "../../db"
import { StoredCheckpointRow } from "./types"

/**
 * Reads a run and holds its row lock until the surrounding transaction ends,
 * so concurrent saves of one transaction (from this process or another
 * instance) are applied one after the other, each seeing the previous one.
 */
export async function lockExecution(
  trx: Queryable,
  key: RunKey
): Promise<StoredCheckpointRow | undefined> {
  const result = await trx.raw(
    `SELECT "execution", "context", "state", "owner_epoch", "owner_instance_id", "xmin"::text AS "version"
       FROM "workflow_execution"
      WHERE "workflow_id" = ? AND "transaction_id" = ? AND "run_id" = ?
        AND "deleted_at" IS NULL
      FOR UPDATE`,
    [key.workflow_id, key.transaction_id, key.run_id]
  )
  return result.rows[0]
}
