import { Queryable } from "../../db"

export type ClaimedEvent = {
  id: string
  name: string
  payload: Record<string, unknown>
  attempts: number
}

/**
 * Locks up to `limit` events due for delivery, oldest due first, inside the
 * deliverer's transaction, which hands them to the event bus and records
 * the outcome before it commits. Safe under concurrency: SKIP LOCKED gives
 * each event to one deliverer, and the lock goes with the transaction, so
 * an instance that dies mid-delivery (its connection drops) frees its events
 * at once for another. No session state: the claim lives in one transaction,
 * as a transaction pooler allows. Reads the pending events' index only.
 */
export async function claimDueEvents(
  trx: Queryable,
  limit: number
): Promise<ClaimedEvent[]> {
  const { rows } = await trx.raw(
    `SELECT "id", "name", "payload", "attempts"
       FROM "workflow_engine_event"
      WHERE "delivered_at" IS NULL AND "next_attempt_at" <= now()
      ORDER BY "next_attempt_at"
      LIMIT ?
      FOR UPDATE SKIP LOCKED`,
    [limit]
  )
  return rows
}
