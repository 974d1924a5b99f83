import { isLive } from "../../instances/sql/live-instance"
import { WrittenAlong } from "../../db"

/**
 * Claims for firing a timer this instance set and armed itself (born claimed
 * by it), if it is still there as it set it; carried by the load of its run
 * that the firing makes first (see fire-timer), whose result says whether it
 * did. A timer cleared meanwhile (its step was answered on another instance),
 * set again under its key (a new due time), or taken over by another
 * instance (this one's lease ran out) is not claimed, and its run not
 * continued here. Its due time is not compared with the database clock: it
 * was armed on this process' clock, from the moment the orchestrator asked
 * for it (see durable-timers), and the row's due_at is that moment's write, a
 * little later. Due times compare to the millisecond, as completeTimer's do.
 */
export function armedTimerConfirmedWith(
  armed: { key: string; dueAt: Date },
  claimedBy: string
): WrittenAlong {
  return {
    sql: `"timer_confirmed" AS (
      UPDATE "workflow_execution_timer" t
         SET "claimed_by" = ?
       WHERE t."key" = ? AND date_trunc('milliseconds', t."due_at") = ?
         AND (t."claimed_by" = ? OR t."claimed_by" IS NULL OR NOT ${isLive(`t."claimed_by"`)})
      RETURNING 1)`,
    bindings: [claimedBy, armed.key, armed.dueAt, claimedBy],
    result: `EXISTS (SELECT 1 FROM "timer_confirmed")`,
  }
}
