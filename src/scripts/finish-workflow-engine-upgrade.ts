import { ExecArgs, Logger } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import type { WorkflowsModuleService } from "../modules/workflow-engine/services/workflows-module"

/**
 * Finishes what `medusa db:migrate` left to the Workflow Engine module
 * (back-fills and index builds on a table another engine filled), for a
 * store whose instances run no background work (`workerMode: "server"`), or
 * that wants it done before traffic comes:
 *
 *   npx medusa exec ./node_modules/medusa-workflow-engine-postgres/.medusa/server/src/scripts/finish-workflow-engine-upgrade.js
 *
 * Waits for an instance already running it, then does what is left.
 */
export default async function finishWorkflowEngineUpgrade({
  container,
}: ExecArgs): Promise<void> {
  const logger = container.resolve<Logger>(ContainerRegistrationKeys.LOGGER)
  const engine = container.resolve<WorkflowsModuleService>(
    Modules.WORKFLOW_ENGINE
  )
  const { finished, rows, batches, ms } = await engine.finishUpgrade()
  logger.info(
    finished.length
      ? `Workflow engine upgrade finished ${finished.join(", ")}: ${rows} rows in ${batches} batches, ${Math.round(ms)} ms`
      : "Workflow engine upgrade: nothing left to do"
  )
}
