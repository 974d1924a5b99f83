import { model, TransactionState } from "@medusajs/framework/utils"
import {
  FINISHED_STATES_SQL,
  IN_FLIGHT_STATES_SQL,
} from "../transaction-states"

/**
 * The table Medusa's own engines use, column for column, so a store can switch
 * engines and keep its history. `retention_time` is in seconds.
 */
export const WorkflowExecution = model
  .define("workflow_execution", {
    id: model.id({ prefix: "wf_exec" }),
    workflow_id: model.text().primaryKey(),
    transaction_id: model.text().primaryKey(),
    run_id: model.text().primaryKey(),
    execution: model.json().nullable(),
    context: model.json().nullable(),
    state: model.enum(TransactionState),
    retention_time: model.number().nullable(),
    // When a finished run may be purged; unset while in flight or kept forever.
    expires_at: model.dateTime().nullable(),
    // The instance that last advanced a run in flight, so a dead one's runs are found (recovery/); null in rows Medusa's engines wrote.
    owner_instance_id: model.text().nullable(),
    // How many times recovery took the run over: a write applies only at the epoch its execution loaded (storage/fencing.ts).
    owner_epoch: model.number().default(0),
    // The async steps whose handler returned, `<step id>#<attempt>`; null in rows stored before it was kept (storage/awaited-steps.ts).
    awaited_steps: model.array().nullable(),
    // When the stuck scan reported the run (events/); the run's next write clears it.
    stuck_at: model.dateTime().nullable(),
    // The commerce ids in the run's input (references/); null in rows not yet back-filled (Migration20261207110000).
    resource_ids: model.array().nullable(),
    // Who kept a finished run from the purge, why and when; `expires_at` is then `infinity` and its own expiry waits in kept_expires_at (retention/sql/keep-execution.ts).
    kept_at: model.dateTime().nullable(),
    kept_by: model.text().nullable(),
    kept_reason: model.text().nullable(),
    kept_expires_at: model.dateTime().nullable(),
  })
  /*
   * The indexes the migrations leave, by their names. DML scopes every partial
   * index to live rows (it adds `deleted_at IS NULL` where the predicate does
   * not name deleted_at) and adds one on deleted_at itself, which the
   * migrations dropped (Migration20261202090000). What it cannot say: the
   * trigram index on transaction_id (an operator class, and pg_trgm, which
   * only the migration may create; without it `q` reads the table) and the
   * descending order of created_at (a B-tree reads either way).
   */
  .indexes([
    // workflow_id, (workflow_id, transaction_id) and run_id alone: the primary key serves them (Migration20261202090000).
    { on: ["id"], where: "deleted_at IS NULL" },
    { on: ["transaction_id"], where: "deleted_at IS NULL" },
    { on: ["state"], where: "deleted_at IS NULL" },
    // The admin list: newest first.
    { on: ["created_at"], where: "deleted_at IS NULL" },
    // One workflow's runs in one state, newest first: the admin's filtered list.
    { on: ["workflow_id", "state", "created_at"], where: "deleted_at IS NULL" },
    // At most one run in flight per transaction: two starts of one transaction id are told apart by the database.
    {
      name: "IDX_workflow_execution_in_flight_unique",
      on: ["workflow_id", "transaction_id"],
      unique: true,
      where: `deleted_at IS NULL AND state IN (${IN_FLIGHT_STATES_SQL})`,
    },
    // What a purge deletes, oldest first.
    { on: ["expires_at"], where: "expires_at IS NOT NULL" },
    // Finished runs still without an expiry, which each purge pass fills in.
    {
      name: "IDX_workflow_execution_missing_expiry",
      on: ["updated_at"],
      where: `expires_at IS NULL AND retention_time IS NOT NULL AND state IN (${FINISHED_STATES_SQL})`,
    },
    // Finished runs no purge deletes, for the admin's storage card (Migration20261201200000).
    {
      name: "IDX_workflow_execution_kept_forever",
      on: ["workflow_id"],
      where: `expires_at IS NULL AND retention_time IS NULL AND state IN (${FINISHED_STATES_SQL}) AND deleted_at IS NULL`,
    },
    // Runs reported stuck: the storage card's count, the list's `stuck` filter (Migration20261207100000).
    {
      name: "IDX_workflow_execution_stuck_at",
      on: ["stuck_at"],
      where: "stuck_at IS NOT NULL AND deleted_at IS NULL",
    },
    // A commerce object's runs (the `resource_id` filter): built after start (upgrade/deferred-indexes.ts).
    {
      name: "IDX_workflow_execution_resource_ids",
      on: ["resource_ids"],
      type: "GIN",
      where: "deleted_at IS NULL",
    },
  ])
