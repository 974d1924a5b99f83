import { Queryable } from "../../db"

/** Deletes every stored run of the given transactions, whatever their state or retention. */
export async function eraseTransactions(
  db: Queryable,
  transactionIds: string[]
): Promise<number> {
  const result = await db.raw(
    `DELETE FROM "workflow_execution" WHERE "transaction_id" = ANY (?::text[])`,
    [transactionIds]
  )
  return result.rowCount ?? 0
}
