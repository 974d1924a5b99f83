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
