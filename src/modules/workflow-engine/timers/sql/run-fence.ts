import { isInFlightRow } from "../../transaction-states"

/** The run a timer write is made for, and the epoch its execution loaded it at (see storage/fencing.ts). */
export type RunFence = { run_id: string; epoch: number }

/**
 * "No run of this transaction in flight belongs to another run or another
 * epoch than the writer's": a timer write for a run that recovery took over
 * since (or that ended, and a new run of the same transaction id started) is
 * refused. A run no longer in flight refuses nothing: its timers are already
 * cleared, and one set late is dropped when it fires (stale-timer). Served by
 * the in-flight unique index.
 */
export const RUN_FENCE_HOLDS = `NOT EXISTS (
  SELECT 1 FROM "workflow_execution" e
   WHERE e."workflow_id" = ? AND e."transaction_id" = ? AND ${isInFlightRow(`e`)}
     AND (e."run_id" <> ? OR e."owner_epoch" <> ?))`

/** RUN_FENCE_HOLDS' bindings, in order. */
export function runFenceBindings(
  workflowId: string,
  transactionId: string,
  fence: RunFence
): (string | number)[] {
  return [workflowId, transactionId, fence.run_id, fence.epoch]
}

/**
 * RUN_FENCE_HOLDS for a clear sent after the call that made it: with
 * `version`, also "the run's row in flight is still at the version the
 * clearing execution last loaded or wrote" (see storage/seen-versions). A
 * write by anyone else since (another instance's call that set a timer
 * under a cleared key, say) refuses the clear; so does a run that ended, its
 * end having removed its timers. The timers a refused clear leaves fire
 * later and are dropped as stale (stale-timer).
 * The run's row is locked for that: a write of the run under way when the
 * clear starts (a timer set with it) is waited for and then seen, where the
 * statement's snapshot alone would still show the version before it, and
 * the clear would remove the timer that write set once it committed.
 */
export function clearFence(
  run: { workflowId: string; transactionId: string },
  fence: RunFence,
  version: string | undefined
): { sql: string; bindings: (string | number)[] } {
  const bindings = runFenceBindings(run.workflowId, run.transactionId, fence)
  if (version === undefined) {
    return { sql: RUN_FENCE_HOLDS, bindings }
  }
  return {
    sql: `${RUN_FENCE_HOLDS} AND EXISTS (
      SELECT 1 FROM "workflow_execution" e
       WHERE e."workflow_id" = ? AND e."transaction_id" = ? AND ${isInFlightRow(`e`)}
         AND e."xmin" = ?::xid
         FOR UPDATE)`,
    bindings: [...bindings, run.workflowId, run.transactionId, version],
  }
}
