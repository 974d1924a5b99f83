import { isLive } from "../../instances/sql/live-instance"
import { Queryable } from "../../db"
import { ClaimedTimer } from "../timer-spec"

/**
 * Claims up to `limit` timers that are due and free: never claimed, or
 * claimed by an instance whose lease ran out. Safe with any number of
 * instances claiming at once: SKIP LOCKED passes over rows another claimer is
 * taking, and READ COMMITTED re-checks a row taken meanwhile against the
 * latest version, so each timer goes to exactly one claimer.
 */
export async function claimDueTimers(
  db: Queryable,
  claimedBy: string,
  limit: number
): Promise<ClaimedTimer[]> {
  const result = await db.raw(
    `UPDATE "workflow_execution_timer" t
        SET "claimed_by" = ?
      WHERE t."key" IN (
        SELECT "key" FROM "workflow_execution_timer"
         WHERE "due_at" <= clock_timestamp()
           AND ("claimed_by" IS NULL OR NOT ${isLive(`"workflow_execution_timer"."claimed_by"`)})
         ORDER BY "due_at"
         LIMIT ?
         FOR UPDATE SKIP LOCKED)
      RETURNING t."key", t."kind", t."workflow_id", t."transaction_id", t."step_id", t."attempt",
                t."metadata", t."due_at"`,
    [claimedBy, limit]
  )
  return result.rows
}

/**
 * Claims one timer by key, when it is due and free: how the instance that set
 * a timer fires it at its due time without waiting for a poll.
 */
export async function claimTimer(
  db: Queryable,
  key: string,
  claimedBy: string
): Promise<ClaimedTimer | undefined> {
  const result = await db.raw(
    `UPDATE "workflow_execution_timer" t
        SET "claimed_by" = ?
      WHERE t."key" = ? AND t."due_at" <= clock_timestamp()
        AND (t."claimed_by" IS NULL OR NOT ${isLive(`t."claimed_by"`)})
      RETURNING t."key", t."kind", t."workflow_id", t."transaction_id", t."step_id", t."attempt",
                t."metadata", t."due_at"`,
    [claimedBy, key]
  )
  return result.rows[0]
}
