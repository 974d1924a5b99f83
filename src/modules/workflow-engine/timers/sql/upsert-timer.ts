import { Queryable } from "../../storage/sql/types"
import { TimerSpec } from "../timer-spec"
import { TIMER_CHANNEL } from "../../notifications/channels"

/**
 * Sets a timer due `delayMs` from now on the database clock, replacing one of
 * the same key (a claimed one too: the new due time is a new timer). With
 * `claimedBy`, the row is born claimed by the instance that will fire it
 * itself right away; should that instance die, the claim ends with its lease.
 * The NOTIFY wakes the other instances only for timers they may fire.
 */
export async function upsertTimer(
  db: Queryable,
  timer: TimerSpec,
  delayMs: number,
  claimedBy: string | null
): Promise<Date> {
  const result = await db.raw(
    `WITH "timer" AS (
       INSERT INTO "workflow_execution_timer" AS t
         ("key", "kind", "workflow_id", "transaction_id", "step_id", "attempt", "metadata", "due_at", "claimed_by")
       VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, clock_timestamp() + make_interval(secs => ? / 1000.0), ?)
       ON CONFLICT ("key") DO UPDATE
         SET "kind" = EXCLUDED."kind", "attempt" = EXCLUDED."attempt", "metadata" = EXCLUDED."metadata",
             "due_at" = EXCLUDED."due_at", "claimed_by" = EXCLUDED."claimed_by"
       RETURNING t."due_at", t."claimed_by"
     )
     SELECT "due_at", CASE WHEN "claimed_by" IS NULL THEN pg_notify(?, '') END FROM "timer"`,
    [
      timer.key,
      timer.kind,
      timer.workflow_id,
      timer.transaction_id,
      timer.step_id,
      timer.attempt,
      JSON.stringify(timer.metadata ?? {}),
      Math.max(0, delayMs),
      claimedBy,
      TIMER_CHANNEL,
    ]
  )
  return result.rows[0].due_at
}
