import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { Queryable, WrittenAlong } from "../../db"
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
    `WITH "timer" AS (${timerUpsertSql(fence ? RUN_FENCE_HOLDS : "true")})
     SELECT "due_at" FROM "timer"`,
    [
      ...timerValues(timer, delayMs, claimedBy),
      ...(fence
        ? runFenceBindings(timer.workflow_id, timer.transaction_id, fence)
        : []),
      ...announcement(delayMs, claimedBy),
    ]
  )
  return result.rows[0]?.due_at
}

/**
 * Sets a timer as upsertTimer does, by the statement that writes its run
 * (see WrittenAlong): only when that statement wrote the run, which it does
 * only at the writer's epoch, so no fence of its own. `committed` gets the
 * due time. `dueMs`: when it is due on this process' clock.
 */
export function timerSetWith(
  timer: TimerSpec,
  { delayMs, dueMs }: { delayMs: number; dueMs: number },
  claimedBy: string | null,
  committed: (dueAt: Date) => void
): WrittenAlong {
  return {
    sql: `"timer_set" AS (${timerUpsertSql(`EXISTS (SELECT 1 FROM "written")`)})`,
    // Read as the statement is sent, a little after the timer was set: due when it was set to be (`dueMs`).
    get bindings() {
      return [
        ...timerValues(timer, dueMs - Date.now(), claimedBy),
        ...announcement(delayMs, claimedBy),
      ]
    },
    result: `(SELECT "due_at" FROM "timer_set")`,
    committed: (dueAt) => committed(dueAt as Date),
  }
}

// Bindings: timerValues, the condition's, then announcement's.
const timerUpsertSql = (condition: string) => `
       INSERT INTO "workflow_execution_timer" AS t
         ("key", "kind", "workflow_id", "transaction_id", "step_id", "attempt", "metadata", "due_at", "claimed_by")
       SELECT ?::text, ?::text, ?::text, ?::text, ?::text, ?::int, ?::jsonb,
              clock_timestamp() + make_interval(secs => ? / 1000.0), ?::text
        WHERE ${condition}
       ON CONFLICT ("key") DO UPDATE
         SET "kind" = EXCLUDED."kind", "attempt" = EXCLUDED."attempt", "metadata" = EXCLUDED."metadata",
             "due_at" = EXCLUDED."due_at", "claimed_by" = EXCLUDED."claimed_by"
       RETURNING t."due_at",
                 CASE WHEN ?::boolean THEN pg_notify(?, COALESCE(t."claimed_by", '')) END AS "announced"`

function timerValues(
  timer: TimerSpec,
  delayMs: number,
  claimedBy: string | null
): Knex.RawBinding[] {
  return [
    timer.key,
    timer.kind,
    timer.workflow_id,
    timer.transaction_id,
    timer.step_id,
    timer.attempt,
    JSON.stringify(timer.metadata ?? {}),
    Math.max(0, delayMs),
    claimedBy,
  ]
}

// Every timer but one fired at once where it was set wakes the other instances.
const announcement = (delayMs: number, claimedBy: string | null) => [
  claimedBy === null || delayMs > 0,
  TIMER_CHANNEL,
]
