import { Queryable, RunKey } from "../../db"
import { UNTOUCHED_GUARD } from "./untouched-guard"
import {
  RECORDED_RUN_EVENT,
  RUN_EVENT_COLUMNS,
  RunEvent,
  runEventValues,
  WRITTEN_AND_ANNOUNCED,
} from "./run-event"

/**
 * Removes the row of a finished run that nobody asked to keep, while the run
 * is still at the writer's epoch (see fencing.ts). With `onlyIfUntouched`,
 * see UNTOUCHED_GUARD. With `event` (a run that failed or reverted), its
 * event is recorded in the same statement from the row removed: the run
 * leaves the table and its event enters the outbox in one commit. Returns
 * whether a row was removed.
 */
export async function deleteExecution(
  db: Queryable,
  key: RunKey,
  {
    onlyIfUntouched,
    epoch,
    event,
  }: { onlyIfUntouched: boolean; epoch: number; event?: RunEvent }
): Promise<boolean> {
  const guard = onlyIfUntouched ? UNTOUCHED_GUARD : ""
  const result = await db.raw(
    `WITH "written" AS (
       DELETE FROM "workflow_execution"
        WHERE "workflow_id" = ? AND "transaction_id" = ? AND "run_id" = ? AND "owner_epoch" = ? ${guard}
       RETURNING ${RUN_EVENT_COLUMNS}
     ), ${RECORDED_RUN_EVENT}
     ${WRITTEN_AND_ANNOUNCED}`,
    [
      key.workflow_id,
      key.transaction_id,
      key.run_id,
      epoch,
      ...runEventValues(event),
    ]
  )
  return result.rows[0]?.written === 1
}
