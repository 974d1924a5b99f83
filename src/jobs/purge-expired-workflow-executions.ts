import { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"

type PurgingEngine = { runScheduledPurge?: () => Promise<unknown> }

let warnedAboutEngine = false

/**
 * Purges expired workflow executions. It ticks every minute on every
 * instance; the engine runs a pass only when this instance claims the
 * cluster's next one, every `purgeIntervalSeconds` (module option, default 15
 * minutes), so the interval stays a module option and the pass runs once per
 * cluster.
 */
export default async function purgeExpiredWorkflowExecutions(container: MedusaContainer): Promise<void> {
  const engine = container.resolve<PurgingEngine>(Modules.WORKFLOW_ENGINE)
  if (typeof engine.runScheduledPurge !== "function") {
    if (warnedAboutEngine) {
      return
    }
    warnedAboutEngine = true
    container
      .resolve(ContainerRegistrationKeys.LOGGER)
      .warn(
        "medusa-workflow-engine-postgres: the Workflow Engine module is not this plugin's, so its purge job does nothing. " +
          'Set modules[Modules.WORKFLOW_ENGINE].resolve to "medusa-workflow-engine-postgres/modules/workflow-engine".'
      )
    return
  }
  await engine.runScheduledPurge()
}

export const config = {
  name: "purge-expired-workflow-executions",
  schedule: "* * * * *",
}
