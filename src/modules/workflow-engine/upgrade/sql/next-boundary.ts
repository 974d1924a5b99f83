import { afterKey, ExecutionKey, UpgradeConnection } from "./types"

/**
 * The primary key `batchSize` rows after `after`, read from the primary key
 * index alone; null when fewer rows are left (the batch then takes them all).
 * A back-fill walks the table in such ranges, so each batch reads and locks
 * only its own rows, and the next one starts where the last one ended.
 */
export async function nextBoundary(
  db: UpgradeConnection,
  after: ExecutionKey | null,
  batchSize: number
): Promise<ExecutionKey | null> {
  const from = afterKey(after, 2)
  const { rows } = await db.query(
    `SELECT "workflow_id", "transaction_id", "run_id"
       FROM "workflow_execution"
      WHERE ${from.sql}
      ORDER BY "workflow_id", "transaction_id", "run_id"
     OFFSET $1 LIMIT 1`,
    [batchSize - 1, ...from.values]
  )
  return rows.length
    ? [rows[0].workflow_id, rows[0].transaction_id, rows[0].run_id]
    : null
}
