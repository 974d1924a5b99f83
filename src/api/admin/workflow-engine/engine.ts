import { MedusaContainer } from "@medusajs/framework/types"
import { MedusaError, Modules } from "@medusajs/framework/utils"
import type { WorkflowsModuleService } from "../../../modules/workflow-engine/services/workflows-module"

/**
 * The store's Workflow Engine, when it is this plugin's module. The plugin's
 * routes can be installed (through `plugins`) on a store whose engine is
 * still Medusa's; they then answer 400 with what to change, not a 500.
 */
export function postgresEngine(scope: MedusaContainer): WorkflowsModuleService {
  const engine = scope.resolve<Partial<WorkflowsModuleService>>(
    Modules.WORKFLOW_ENGINE
  )
  if (typeof engine.retrieveExecutionStorage !== "function") {
    throw new MedusaError(
      MedusaError.Types.NOT_ALLOWED,
      'The Workflow Engine module is not medusa-workflow-engine-postgres: set modules[Modules.WORKFLOW_ENGINE].resolve to "medusa-workflow-engine-postgres/modules/workflow-engine".'
    )
  }
  return engine as WorkflowsModuleService
}
