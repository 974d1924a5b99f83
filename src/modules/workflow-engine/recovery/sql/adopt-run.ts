import { isLive } from "../../instances/sql/live-instance"
import { Queryable, RunKey } from "../../db"
import { isInFlightRow } from "../../transaction-states"
import { OrphanedRun } from "./find-orphaned-runs"
import { TimerKind } from "../../timers/timer-spec"

/** A timer stored for the run, as recovery sees it. */
export type StoredTimer = { kind: TimerKind; step_id: string | null }

export type AdoptedRun = {
  execution: any
  /** the timers stored for the run: whether one continues it decides its recovery */
  timers: StoredTimer[]
  /** the async steps whose handler returned (storage/awaited-steps); null in rows of an engine that did not note them */
  awaited_steps: string[] | null
  /** where the dead instance ran, when its lease row is still there */
  hostname: string | null
  pid: number | null
}

/**
 * Locks an orphaned run for its recovery, if it still is one: still in
 * flight, still owned by that dead instance, not being recovered by another
 * instance (those rows are skipped, not waited for). Call inside a
 * transaction and adopt the run before it commits.
 */
export async function lockOrphanedRun(
  trx: Queryable,
  run: OrphanedRun
): Promise<AdoptedRun | undefined> {
  const result = await trx.raw(
    `SELECT e."execution", e."awaited_steps",
            COALESCE((SELECT json_agg(json_build_object('kind', t."kind", 'step_id', t."step_id"))
                        FROM "workflow_execution_timer" t
                       WHERE t."workflow_id" = e."workflow_id" AND t."transaction_id" = e."transaction_id"), '[]') AS "timers",
            i."hostname", i."pid"
       FROM "workflow_execution" e
       LEFT JOIN "workflow_engine_instance" i ON i."id" = e."owner_instance_id"
      WHERE e."workflow_id" = ? AND e."transaction_id" = ? AND e."run_id" = ?
        AND ${isInFlightRow(`e`)}
        AND e."owner_instance_id" = ?
        AND NOT ${isLive(`e."owner_instance_id"`)}
      FOR UPDATE OF e SKIP LOCKED`,
    [run.workflow_id, run.transaction_id, run.run_id, run.owner_instance_id]
  )
  return result.rows[0]
}

/**
 * Makes this instance the run's owner (so that no other instance recovers it
 * meanwhile, and that it is recovered again should this one die too), with
 * the checkpoint the recovery continues from; `owner` null when nobody needs
 * to: the run waits for something outside any instance. Bumps the run's
 * epoch: whatever the instance judged dead still writes for the run is
 * refused from now on (storage/fencing.ts), whichever way it goes on.
 */
export async function adoptRun(
  trx: Queryable,
  run: RunKey,
  owner: string | null,
  execution?: { state: string }
): Promise<void> {
  await trx.raw(
    `UPDATE "workflow_execution"
        SET "owner_instance_id" = ?,
            "owner_epoch" = "owner_epoch" + 1,
            "execution" = COALESCE(?::jsonb, "execution"),
            "state" = COALESCE(?, "state")
      WHERE "workflow_id" = ? AND "transaction_id" = ? AND "run_id" = ?`,
    [
      owner,
      execution === undefined ? null : JSON.stringify(execution),
      execution?.state ?? null,
      run.workflow_id,
      run.transaction_id,
      run.run_id,
    ]
  )
}
