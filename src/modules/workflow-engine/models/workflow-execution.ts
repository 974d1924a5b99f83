import { FINISHED_STATES_SQL } from "../transaction-states"
import { model, TransactionState } from "@medusajs/framework/utils"

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
  })
  .indexes([
    // workflow_id, (workflow_id, transaction_id) and run_id alone: the primary key serves them (Migration20261202090000).
    { on: ["id"], where: "deleted_at IS NULL" },
    { on: ["transaction_id"], where: "deleted_at IS NULL" },
    { on: ["state"], where: "deleted_at IS NULL" },
    // The admin list: newest first.
    { on: ["created_at"], where: "deleted_at IS NULL" },
    { on: ["expires_at"], where: "expires_at IS NOT NULL" },
    // Finished runs no purge deletes, for the admin's storage card (Migration20261201200000).
    {
      name: "IDX_workflow_execution_kept_forever",
      on: ["workflow_id"],
      where: `expires_at IS NULL AND retention_time IS NULL AND state IN (${FINISHED_STATES_SQL}) AND deleted_at IS NULL`,
    },
  ])
