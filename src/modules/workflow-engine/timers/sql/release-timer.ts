import { Queryable } from "../../db"
import { TIMER_CHANNEL } from "../../notifications/channels"
import { ClaimedTimer } from "../timer-spec"

/**
 * Hands a claimed timer whose run failed to continue back, due again after
 * `delayMs`. Only this claim: when the run set the same key again meanwhile,
 * or another instance took the claim over (this one was judged dead while it
 * fired) and completed it, nothing is brought back. Due times compare to the
 * millisecond, as completeTimer's do.
 */
export async function releaseTimer(
  db: Queryable,
  timer: ClaimedTimer,
  delayMs: number,
  claimedBy: string
): Promise<void> {
  await db.raw(
    `UPDATE "workflow_execution_timer"
        SET "due_at" = clock_timestamp() + make_interval(secs => ? / 1000.0), "claimed_by" = NULL
      WHERE "key" = ? AND date_trunc('milliseconds', "due_at") = ? AND "claimed_by" = ?
      RETURNING pg_notify(?, '')`,
    [Math.max(0, delayMs), timer.key, timer.due_at, claimedBy, TIMER_CHANNEL]
  )
}

/**
 * Hands back this instance's claim of a timer whose due time it does not
 * know (the statement that set it committed, and its reply was lost): any
 * instance fires it at its due time.
 */
export async function releaseClaim(
  db: Queryable,
  key: string,
  claimedBy: string
): Promise<void> {
  await db.raw(
    `UPDATE "workflow_execution_timer" SET "claimed_by" = NULL
      WHERE "key" = ? AND "claimed_by" = ?
      RETURNING pg_notify(?, '')`,
    [key, claimedBy, TIMER_CHANNEL]
  )
}

/**
 * Hands back every timer this instance still holds, on a clean shutdown: the
 * ones it armed and did not fire. Each is then free to whichever instance
 * comes to it first, at its due time; the NOTIFY tells them now, not at their
 * next poll.
 */
export async function releaseAllTimers(
  db: Queryable,
  claimedBy: string
): Promise<void> {
  await db.raw(
    `UPDATE "workflow_execution_timer" SET "claimed_by" = NULL
      WHERE "claimed_by" = ?
      RETURNING pg_notify(?, '')`,
    [claimedBy, TIMER_CHANNEL]
  )
}
