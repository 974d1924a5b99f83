import { HotOptions, HotStatement, runHot } from "./prepared-statement"
import { Queryable } from "../../db"
import { ExecutionRow } from "./types"
import { UNTOUCHED_GUARD } from "./untouched-guard"
import {
  RECORDED_RUN_EVENT,
  RUN_EVENT_COLUMNS,
  RunEvent,
  runEventValues,
  WRITTEN_AND_ANNOUNCED,
} from "./run-event"

// A write is the run moving: whatever the stuck scan reported of it no longer holds (`stuck_at`).
const updateSql = (guard: string) => `
  WITH "written" AS (
    UPDATE "workflow_execution"
       SET "execution" = ?::jsonb, "context" = ?::jsonb, "state" = ?,
           "retention_time" = ?, "updated_at" = now(),
           "expires_at" = now() + make_interval(secs => ?::int), "owner_instance_id" = ?,
           "stuck_at" = NULL
     WHERE "workflow_id" = ? AND "transaction_id" = ? AND "run_id" = ?
       AND "deleted_at" IS NULL AND "owner_epoch" = ? ${guard}
    RETURNING ${RUN_EVENT_COLUMNS}
  ), ${RECORDED_RUN_EVENT}
  ${WRITTEN_AND_ANNOUNCED}`

const UPDATE_EXECUTION: HotStatement = {
  name: "workflow_engine_update_execution",
  sql: updateSql(""),
}
const UPDATE_UNTOUCHED_EXECUTION: HotStatement = {
  name: "workflow_engine_update_untouched_execution",
  sql: updateSql(UNTOUCHED_GUARD),
}

/**
 * Writes the latest checkpoint of a run in place, while the run is still at
 * the epoch the writer loaded it at (the fence: see fencing.ts); a run taken
 * over meanwhile is left as it is (nothing written), and the locked path says why.
 * With `event`, the run event this write causes is recorded in the same
 * statement (see run-event.ts): no statement more, and no event without the write.
 *
 * With `onlyIfUntouched`, see UNTOUCHED_GUARD. Returns whether a row was written.
 */
export async function updateExecution(
  db: Queryable,
  row: ExecutionRow,
  {
    onlyIfUntouched,
    event,
    ...hot
  }: { onlyIfUntouched: boolean; event?: RunEvent } & HotOptions
): Promise<boolean> {
  const result = await runHot(
    db,
    onlyIfUntouched ? UPDATE_UNTOUCHED_EXECUTION : UPDATE_EXECUTION,
    [
      JSON.stringify(row.execution),
      JSON.stringify(row.context),
      row.state,
      row.retention_time,
      row.expires_in_seconds,
      row.owner_instance_id,
      row.workflow_id,
      row.transaction_id,
      row.run_id,
      row.owner_epoch,
      ...runEventValues(event),
    ],
    hot
  )
  return result.rows[0]?.written === 1
}
