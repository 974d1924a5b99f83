import { HotOptions, HotStatement, runHot } from "./prepared-statement"
import { Queryable } from "../../db"
import { ExecutionRow } from "./types"
import { UNTOUCHED_GUARD } from "./untouched-guard"

const updateSql = (guard: string) => `
  UPDATE "workflow_execution"
     SET "execution" = ?::jsonb, "context" = ?::jsonb, "state" = ?,
         "retention_time" = ?, "updated_at" = now(),
         "expires_at" = now() + make_interval(secs => ?::int), "owner_instance_id" = ?
   WHERE "workflow_id" = ? AND "transaction_id" = ? AND "run_id" = ?
     AND "deleted_at" IS NULL AND "owner_epoch" = ? ${guard}`

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
 * over meanwhile is left as it is (rowCount 0), and the locked path says why.
 *
 * With `onlyIfUntouched`, see UNTOUCHED_GUARD. Returns whether a row was written.
 */
export async function updateExecution(
  db: Queryable,
  row: ExecutionRow,
  { onlyIfUntouched, ...hot }: { onlyIfUntouched: boolean } & HotOptions
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
    ],
    hot
  )
  return result.rowCount === 1
}
