import { defineJoinerConfig, Modules } from "@medusajs/framework/utils"
import { WorkflowExecution } from "./models"

/**
 * What the module offers to links and Query: workflow executions, as Medusa's
 * own engines do. The purge audit trail is read through the service
 * (`listWorkflowExecutionPurges`); a store has nothing to link to it.
 */
export const joinerConfig = defineJoinerConfig(Modules.WORKFLOW_ENGINE, {
  models: [WorkflowExecution],
})
