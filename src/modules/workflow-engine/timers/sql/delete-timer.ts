import { Queryable } from "../../storage/sql/types"

/** Clears timers, claimed or not: the step or run they were set for moved on. */
export async function deleteTimers(db: Queryable, keys: string[]): Promise<void> {
  await db.raw(`DELETE FROM "workflow_execution_timer" WHERE "key" = ANY(?::text[])`, [keys])
}

/**
 * Removes a timer once its claimer fired it. Only that claim: when the run
 * set the same key again meanwhile (a new due time), the new timer stays.
 * The due time came back as a JS Date, to the millisecond, while Postgres
 * keeps microseconds: compared as is, it never matched, and every fired timer
 * its run did not clear stayed behind, claimed by a live instance.
 */
export async function completeTimer(db: Queryable, key: string, dueAt: Date, claimedBy: string): Promise<void> {
  await db.raw(
    `DELETE FROM "workflow_execution_timer"
      WHERE "key" = ? AND date_trunc('milliseconds', "due_at") = ? AND "claimed_by" = ?`,
    [key, dueAt, claimedBy]
  )
}
