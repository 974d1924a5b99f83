import { Queryable } from "../../db"

/**
 * Records that the events were handed to the event bus, in the transaction
 * that claimed them (their row locks are held: no other deliverer has them).
 * The rows stay a while (see remove-delivered.ts) so that a late second write
 * of the same end finds its dedupe key taken.
 */
export async function markDelivered(
  trx: Queryable,
  ids: string[]
): Promise<void> {
  await trx.raw(
    `UPDATE "workflow_engine_event" SET "delivered_at" = now() WHERE "id" = ANY(?::text[])`,
    [ids]
  )
}
