import { isLive } from "../../instances/sql/live-instance"
import { Queryable } from "../../db"
import { ClaimedTimer } from "../timer-spec"

export type DueTimers = {
  timers: ClaimedTimer[]
  /**
   * Milliseconds until another timer may become claimable (null: none is
   * left): a free one's due time, or, for one claimed by another instance,
   * the later of its due time and its claimer's lease (a claimer that dies is
   * taken over right when its lease runs out). The timers claimed by
   * `claimedBy` are left out: that instance armed them itself.
   */
  waitMs: number | null
}

/**
 * Claims up to `limit` timers that are due and free: never claimed, or
 * claimed by an instance whose lease ran out; and, in the same statement,
 * when to look again. Safe with any number of instances claiming at once:
 * SKIP LOCKED passes over rows another claimer is taking, and READ COMMITTED
 * re-checks a row taken meanwhile against the latest version, so each timer
 * goes to exactly one claimer. The wait is read from the statement's
 * snapshot, which still shows the rows this claim takes as free: they are
 * left out by key.
 */
export async function claimDueTimers(
  db: Queryable,
  claimedBy: string,
  limit: number
): Promise<DueTimers> {
  const result = await db.raw(
    `WITH "claimed" AS (
       UPDATE "workflow_execution_timer" t
          SET "claimed_by" = ?
        WHERE t."key" IN (
          SELECT "key" FROM "workflow_execution_timer"
           WHERE "due_at" <= clock_timestamp()
             AND ("claimed_by" IS NULL OR NOT ${isLive(`"workflow_execution_timer"."claimed_by"`)})
           ORDER BY "due_at"
           LIMIT ?
           FOR UPDATE SKIP LOCKED)
        RETURNING t."key", t."kind", t."workflow_id", t."transaction_id", t."step_id", t."attempt",
                  t."metadata", t."due_at")
     SELECT (SELECT COALESCE(json_agg("claimed"), '[]'::json) FROM "claimed") AS "timers",
            (SELECT EXTRACT(EPOCH FROM min(GREATEST(t."due_at", COALESCE(i."lease_expires_at", t."due_at")))
                                       - clock_timestamp()) * 1000
               FROM "workflow_execution_timer" t
               LEFT JOIN "workflow_engine_instance" i ON i."id" = t."claimed_by"
              WHERE t."claimed_by" IS DISTINCT FROM ?
                AND t."key" NOT IN (SELECT "key" FROM "claimed")) AS "wait_ms"`,
    [claimedBy, limit, claimedBy]
  )
  const row = result.rows[0]
  const wait = row?.wait_ms
  return {
    // json_agg spells due_at as text; the claim's identity (see completeTimer) is its millisecond.
    timers: (row?.timers ?? []).map(
      (timer: ClaimedTimer & { due_at: string }) => ({
        ...timer,
        due_at: new Date(timer.due_at),
      })
    ),
    waitMs:
      wait === null || wait === undefined ? null : Math.max(0, Number(wait)),
  }
}
