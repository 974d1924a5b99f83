import { isLive } from "../../instances/sql/live-instance"
import { Queryable } from "../../db"

/**
 * Of the timers this instance set and armed itself (born claimed by it),
 * those still there as it set them, claimed for firing; returns their keys.
 * One statement for every armed timer that came due together. A timer
 * cleared meanwhile (its step was answered on another instance), set again
 * under its key (a new due time), or taken over by another instance (this
 * one's lease ran out) is not returned, and not fired here. Its due time is
 * not compared with the database clock: it was armed on this process' clock,
 * from the moment the orchestrator asked for it (see durable-timers), and the
 * row's due_at is that moment's write, a little later. Due times compare to
 * the millisecond, as completeTimer's do.
 */
export async function confirmArmedTimers(
  db: Queryable,
  armed: { key: string; dueAt: Date }[],
  claimedBy: string
): Promise<Set<string>> {
  const result = await db.raw(
    `UPDATE "workflow_execution_timer" t
        SET "claimed_by" = ?
       FROM unnest(?::text[], ?::timestamptz[]) AS a("key", "due_at")
      WHERE t."key" = a."key" AND date_trunc('milliseconds', t."due_at") = a."due_at"
        AND (t."claimed_by" = ? OR t."claimed_by" IS NULL OR NOT ${isLive(`t."claimed_by"`)})
      RETURNING t."key"`,
    [
      claimedBy,
      armed.map((timer) => timer.key),
      armed.map((timer) => timer.dueAt.toISOString()),
      claimedBy,
    ]
  )
  return new Set(result.rows.map((row: { key: string }) => row.key))
}
