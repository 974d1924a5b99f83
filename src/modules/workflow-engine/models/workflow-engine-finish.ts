import { model } from "@medusajs/framework/utils"

/**
 * A run that finished on some instance, kept about an hour: how instances
 * that cannot LISTEN hear other instances' finishes (see
 * notifications/sql/notify-finished.ts).
 */
export const WorkflowEngineFinish = model
  .define("workflow_engine_finish", {
    id: model.id({ prefix: "wf_fin" }).primaryKey(),
    workflow_id: model.text(),
    transaction_id: model.text(),
    state: model.text(),
    /** The instance that wrote the finish: it told its own subscribers. */
    instance_id: model.text(),
  })
  .indexes([
    { name: "IDX_workflow_engine_finish_created_at", on: ["created_at"] },
  ])
