import { Queryable, WrittenAlong } from "../../db"
import { StoredCheckpointRow } from "./types"
import {
  alongBindings,
  alongCtes,
  alongResults,
  readAlong,
} from "./written-along"

const LATEST = `SELECT "execution", "context", "state", "owner_epoch", "owner_instance_id", "xmin"::text AS "version"
       FROM "workflow_execution"
      WHERE "workflow_id" = ? AND "transaction_id" = ? AND "deleted_at" IS NULL
      ORDER BY "created_at" DESC, "id" DESC
      LIMIT 1`

/**
 * The newest run of a transaction: a transaction id can be run again once its
 * previous run finished, and the orchestrator continues from the newest one.
 * Served by the primary key (workflow_id, transaction_id, run_id) or the
 * transaction_id index; with statistics that say the table is empty (a new
 * table before its first ANALYZE), the planner may take another index and
 * filter the transaction id row by row.
 *
 * `along`: what the same statement changes besides (the claim of the timer
 * whose firing loads the run, see armedTimerConfirmedWith), whatever it
 * finds; its results are kept for commitAlong.
 */
export async function loadLatestExecution(
  db: Queryable,
  workflowId: string,
  transactionId: string,
  along: WrittenAlong[] = []
): Promise<StoredCheckpointRow | undefined> {
  if (!along.length) {
    const result = await db.raw(LATEST, [workflowId, transactionId])
    return result.rows[0]
  }
  // One row whether or not the run is stored, for the results of what it carries.
  const result = await db.raw(
    `WITH "written" AS (SELECT 1)${alongCtes(along)}
     SELECT "latest".*${alongResults(along)}
       FROM (SELECT 1) AS "one" LEFT JOIN LATERAL (${LATEST}) AS "latest" ON true`,
    [...alongBindings(along), workflowId, transactionId]
  )
  const row = result.rows[0]
  readAlong(row, along)
  return row?.state == null ? undefined : row
}
