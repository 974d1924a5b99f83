import { Queryable } from "../../storage/sql/types"
import { TRANSACTION_CHANNEL } from "../channels"

/** What a finished-transaction notification carries: ids only (NOTIFY payloads stop at 8 kB). */
export type FinishedNotice = { workflow_id: string; transaction_id: string; state: string; instance_id: string }

/**
 * Tells every instance that a transaction finished. Sent inside the
 * transaction that writes the finish, so it is delivered at commit, with the
 * row (when it is kept) already readable.
 */
export async function notifyFinished(db: Queryable, notice: FinishedNotice): Promise<void> {
  await db.raw(`SELECT pg_notify(?, ?)`, [TRANSACTION_CHANNEL, JSON.stringify(notice)])
}
