import { Queryable } from "../../db"
import { TimerSpec } from "../timer-spec"
import { TIMER_CHANNEL } from "../../notifications/channels"
import { RUN_FENCE_HOLDS, RunFence, runFenceBindings } from "./run-fence"

/**
 * Sets a timer due `delayMs` from now on the database clock, replacing one of
 * the same key (a claimed one too: the new due time is a new timer). With
 * `claimedBy`, the row is born claimed by the instance that will fire it
 * itself, right away or from the in-process timer it arms for it; should
 * that instance die, the claim ends with its lease.
 * The NOTIFY wakes the other instances for every timer but one fired at
 * once where it was set; its payload is the claimer (empty for a free
 * timer), so that the claimer does not wake for its own. The others learn
 * the due time of a claimed one too, and with it when to take it over
 * should the claimer die (an `exec` script that ends before its timers are
 * due) without waiting for their poll.
 * With `fence`, the timer is set only while its run is still at the writer's
 * epoch (see run-fence); undefined when it was refused.
 */
export async function upsertTimer(
  db: Queryable,
  timer: TimerSpec,
  delayMs: number,
  claimedBy: string | null,
  fence?: RunFence
): Promise<Date | undefined> {
  const result = await db.raw(
    `WITH "timer" AS (
       INSERT INTO "workflow_execution_timer" AS t
         ("key", "kind", "workflow_id", "transaction_id", "step_id", "attempt", "metadata", "due_at", "claimed_by")
       SELECT ?::text, ?::text, ?::text, ?::text, ?::text, ?::int, ?::jsonb,
              clock_timestamp() + make_interval(secs => ? / 1000.0), ?::text
        WHERE ${fence ? RUN_FENCE_HOLDS : "true"}
       ON CONFLICT ("key") DO UPDATE
         SET "kind" = EXCLUDED."kind", "attempt" = EXCLUDED."attempt", "metadata" = EXCLUDED."metadata",
             "due_at" = EXCLUDED."due_at", "claimed_by" = EXCLUDED."claimed_by"
       RETURNING t."due_at", t."claimed_by"
     )
     SELECT "due_at", CASE WHEN ?::boolean THEN pg_notify(?, COALESCE("claimed_by", '')) END FROM "timer"`,
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
      ...(fence
        ? runFenceBindings(timer.workflow_id, timer.transaction_id, fence)
        : []),
      claimedBy === null || delayMs > 0,
      TIMER_CHANNEL,
    ]
  )
  return result.rows[0]?.due_at
}
