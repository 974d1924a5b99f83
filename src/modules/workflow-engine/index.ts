import { Module, Modules } from "@medusajs/framework/utils"
import engineLoader from "./loaders/engine"
import { WorkflowsModuleService } from "./services/workflows-module"

export default Module(Modules.WORKFLOW_ENGINE, {
  service: WorkflowsModuleService,
  loaders: [engineLoader],
})
