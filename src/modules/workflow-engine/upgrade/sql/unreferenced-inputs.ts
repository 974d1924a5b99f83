import { ExecutionKey, keyRange, UpgradeConnection } from "./types"

/** A stored run's key and its input (the workflow's payload). */
export type StoredInput = { key: ExecutionKey; payload: unknown }

/**
 * The inputs of one key range's rows that have no `resource_ids` yet. Only
 * the payload leaves the database, not the whole context. No lock: a run's
 * input never changes, and the write that follows fills only rows still
 * NULL, so a row another writer fills meanwhile is left as it is.
 */
export async function unreferencedInputs(
  db: UpgradeConnection,
  after: ExecutionKey | null,
  through: ExecutionKey | null
): Promise<StoredInput[]> {
  const range = keyRange(after, through)
  const { rows } = await db.query(
    `SELECT "workflow_id", "transaction_id", "run_id", "context" -> 'data' -> 'payload' AS "payload"
       FROM "workflow_execution"
      WHERE ${range.sql} AND "resource_ids" IS NULL`,
    range.values
  )
  return rows.map((row) => ({
    key: [row.workflow_id, row.transaction_id, row.run_id],
    payload: row.payload,
  }))
}
