import { Queryable } from "../../db"

export type TransactionMatch = {
  id: string
  workflow_id: string
  state: string
}

/**
 * Live executions whose transaction id contains `pattern`, at most `limit`,
 * for a table without the trigram index. No ORDER BY on purpose: sorted by
 * created_at, the planner walks the created_at index hoping for early matches
 * and reads the whole table at random when there are few; unsorted, it reads
 * the table once, in order.
 */
export async function transactionsMatching(
  db: Queryable,
  pattern: string,
  limit: number
): Promise<TransactionMatch[]> {
  const { rows } = await db.raw(
    `SELECT "id", "workflow_id", "state"
       FROM "workflow_execution"
      WHERE "deleted_at" IS NULL AND "transaction_id" ILIKE ?
      LIMIT ?`,
    [pattern, limit]
  )
  return rows
}
