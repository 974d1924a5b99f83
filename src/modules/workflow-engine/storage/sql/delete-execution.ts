import { Queryable, RunKey, WrittenAlong } from "../../db"
import {
  alongBindings,
  alongCtes,
  alongResults,
  readAlong,
} from "./written-along"
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
 * see UNTOUCHED_GUARD; with `unchangedSince`, also only while the row is at
 * that version (see seen-versions.ts). With `event` (a run that failed or
 * reverted), its event is recorded in the same statement from the row
 * removed: the run leaves the table and its event enters the outbox in one
 * commit; so does what `along` changes (see WrittenAlong). Returns whether a
 * row was removed.
 */
export async function deleteExecution(
  db: Queryable,
  key: RunKey,
  {
    onlyIfUntouched,
    unchangedSince,
    epoch,
    event,
    along = [],
  }: {
    onlyIfUntouched: boolean
    unchangedSince?: string
    epoch: number
    event?: RunEvent
    along?: WrittenAlong[]
  }
): Promise<boolean> {
  const unchanged = unchangedSince !== undefined
  const guard = `${onlyIfUntouched || unchanged ? UNTOUCHED_GUARD : ""}${unchanged ? ` AND "xmin" = ?::xid` : ""}`
  const result = await db.raw(
    `WITH "written" AS (
       DELETE FROM "workflow_execution"
        WHERE "workflow_id" = ? AND "transaction_id" = ? AND "run_id" = ? AND "owner_epoch" = ? ${guard}
       RETURNING ${RUN_EVENT_COLUMNS}
     )${alongCtes(along)}, ${RECORDED_RUN_EVENT}
     ${WRITTEN_AND_ANNOUNCED}${alongResults(along)}`,
    [
      key.workflow_id,
      key.transaction_id,
      key.run_id,
      epoch,
      ...(unchanged ? [unchangedSince] : []),
      ...alongBindings(along),
      ...runEventValues(event),
    ]
  )
  readAlong(result.rows[0], along)
  return result.rows[0]?.written === 1
}
