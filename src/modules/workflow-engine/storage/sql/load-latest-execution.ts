import { Queryable } from "../../db"
import { StoredCheckpointRow } from "./types"

/**
 * The newest run of a transaction: a transaction id can be run again once its
 * previous run finished, and the orchestrator continues from the newest one.
 * Served by the primary key (workflow_id, transaction_id, run_id) or the
 * transaction_id index; with statistics that say the table is empty (a new
 * table before its first ANALYZE), the planner may take another index and
 * filter the transaction id row by row.
 */
export async function loadLatestExecution(
  db: Queryable,
  workflowId: string,
  transactionId: string
): Promise<StoredCheckpointRow | undefined> {
  const result = await db.raw(
    `SELECT "execution", "context", "state", "owner_epoch", "owner_instance_id", "xmin"::text AS "version"
       FROM "workflow_execution"
      WHERE "workflow_id" = ? AND "transaction_id" = ? AND "deleted_at" IS NULL
      ORDER BY "created_at" DESC, "id" DESC
      LIMIT 1`,
    [workflowId, transactionId]
  )
  return result.rows[0]
}
