import { Queryable, WrittenAlong } from "../../db"
import { clearFence, RunFence } from "./run-fence"

/** Removes timers, claimed or not, with the write of their run's end (see WrittenAlong). */
export function timersRemovedWith(keys: string[]): WrittenAlong {
  return {
    sql: `"timers_removed" AS (
      DELETE FROM "workflow_execution_timer"
       WHERE "key" = ANY(?::text[]) AND EXISTS (SELECT 1 FROM "written"))`,
    bindings: [keys],
  }
}

/**
 * The one claim of a timer its claimer fired (key, due time, claimer): a
 * timer its run set again under the key (a new due time) is not it. The due
 * time comes back as a JS Date, to the millisecond, while Postgres keeps
 * microseconds: compared as is, it never matched, and every fired timer its
 * run did not clear stayed behind, claimed by a live instance.
 */
const FIRED_CLAIM = `"key" = ? AND date_trunc('milliseconds', "due_at") = ? AND "claimed_by" = ?`

/**
 * Removes, with a write of their run, the timer its writer fired (that claim
 * only, as completeTimer) and timers its writer cleared (the write's own
 * fence holds them: see WrittenAlong).
 */
export function timersCompletedWith(
  fired: { key: string; dueAt: Date; claimedBy: string } | undefined,
  cleared: string[]
): WrittenAlong {
  return {
    sql: `"timers_completed" AS (
      DELETE FROM "workflow_execution_timer"
       WHERE EXISTS (SELECT 1 FROM "written")
         AND ("key" = ANY(?::text[])
              OR (${FIRED_CLAIM})))`,
    bindings: [
      cleared,
      fired?.key ?? null,
      fired?.dueAt ?? null,
      fired?.claimedBy ?? null,
    ],
  }
}

/**
 * Clears timers of one run while the run is still at the writer's epoch (see
 * run-fence): a late clear by an instance judged dead must not remove the
 * timers the run's new owner set under the same keys. With `version`, only
 * while the run's row is still at it too (see clearFence). Returns whether
 * the fence held (whether or not there was anything to clear).
 */
export async function deleteRunTimers(
  db: Queryable,
  run: { workflowId: string; transactionId: string },
  keys: string[],
  fence: RunFence,
  version?: string
): Promise<boolean> {
  const holds = clearFence(run, fence, version)
  const result = await db.raw(
    `WITH "fence" AS (SELECT ${holds.sql} AS "holds"),
          "cleared" AS (DELETE FROM "workflow_execution_timer"
                         WHERE "key" = ANY(?::text[]) AND (SELECT "holds" FROM "fence"))
     SELECT "holds" FROM "fence"`,
    [...holds.bindings, keys]
  )
  return result.rows[0].holds
}

/**
 * Removes a timer once its claimer fired it: only that claim (FIRED_CLAIM).
 * `clears`: timers of the run that its firing cleared meanwhile, removed by
 * the same statement while the run's fence holds (as deleteRunTimers).
 */
export async function completeTimer(
  db: Queryable,
  key: string,
  dueAt: Date,
  claimedBy: string,
  clears?: RunTimerClears
): Promise<void> {
  const completed = `DELETE FROM "workflow_execution_timer" WHERE ${FIRED_CLAIM}`
  if (!clears) {
    await db.raw(completed, [key, dueAt, claimedBy])
    return
  }
  // The fence first (it may lock the run's row: see clearFence), then the fired row: in the order a write of the
  // run that sets a timer takes them, so that the two wait for each other instead of deadlocking.
  const holds = clearFence(clears.run, clears.fence, clears.version)
  await db.raw(
    `WITH "fence" AS (SELECT ${holds.sql} AS "holds"),
          "cleared" AS (DELETE FROM "workflow_execution_timer"
                         WHERE "key" = ANY(?::text[]) AND (SELECT "holds" FROM "fence"))
     ${completed} AND (SELECT "holds" FROM "fence") IS NOT NULL`,
    [...holds.bindings, clears.keys, key, dueAt, claimedBy]
  )
}

/**
 * Timers of one run to clear, under the fence of the execution that cleared
 * them and, when known, the version of the run's row it last loaded or wrote.
 */
export type RunTimerClears = {
  run: { workflowId: string; transactionId: string }
  keys: string[]
  fence: RunFence
  version?: string
}
