import { executionId } from "../ids"
import { HotOptions, HotStatement, runHot } from "./prepared-statement"
import { Queryable } from "../../db"
import { NewExecutionRow } from "./types"

const INSERT_EXECUTION: HotStatement = {
  name: "workflow_engine_insert_execution",
  sql: `INSERT INTO "workflow_execution"
          ("id", "workflow_id", "transaction_id", "run_id", "execution", "context", "state", "retention_time", "expires_at", "owner_instance_id", "owner_epoch", "awaited_steps", "resource_ids")
        VALUES (?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, now() + make_interval(secs => ?::int), ?, ?, ?::text[], ?::text[])
        ON CONFLICT DO NOTHING
        RETURNING "xmin"::text AS "version"`,
}

/**
 * Creates the row of a run when it starts. Returns the new row's version
 * (see seen-versions.ts), or undefined when the database refused it:
 * another run of the same transaction is already in flight
 * (IDX_workflow_execution_in_flight_unique) or this run was already stored.
 * Safe under concurrency because the unique indexes decide, not a prior read.
 * Its `awaited_steps` start empty while this engine notes its async steps'
 * handlers (see awaited-steps, handler-notes); rows of an older engine, or
 * stored while nothing notes them, keep NULL. Its `resource_ids` are
 * written here, once: a run's input does not change.
 */
export async function insertExecution(
  db: Queryable,
  row: NewExecutionRow,
  hot: HotOptions
): Promise<string | undefined> {
  const result = await runHot(
    db,
    INSERT_EXECUTION,
    [
      executionId(),
      row.workflow_id,
      row.transaction_id,
      row.run_id,
      JSON.stringify(row.execution),
      JSON.stringify(row.context),
      row.state,
      row.retention_time,
      row.expires_in_seconds,
      row.owner_instance_id,
      row.owner_epoch,
      row.awaited_steps,
      row.resource_ids,
    ],
    hot
  )
  return result.rows[0]?.version
}
