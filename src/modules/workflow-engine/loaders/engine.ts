import { DistributedTransaction, WorkflowScheduler } from "@medusajs/framework/orchestration"
import { LoaderOptions, Logger, MedusaContainer } from "@medusajs/framework/types"
import { asValue } from "@medusajs/framework/awilix"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { resolveOptions } from "../options"
import { ExecutionListing } from "../queries/execution-listing"
import { ExecutionStorage } from "../queries/execution-storage"
import { WorkflowOrchestrator } from "../orchestrator/workflow-orchestrator"
import { ExecutionRetention } from "../retention/execution-retention"
import { NewTransactions } from "../storage/new-transactions"
import { PostgresWorkflowStorage } from "../storage/postgres-workflow-storage"

/**
 * Builds the engine once per module: validates the options, installs the
 * Postgres storage behind every DistributedTransaction and WorkflowScheduler
 * of the process, and registers the orchestrator and the retention for the
 * module service, and what lists read at scale.
 */
export default async function engineLoader({ container, options }: LoaderOptions): Promise<void> {
  const resolved = resolveOptions(options as Record<string, unknown>)
  const logger = container.resolve<Logger>(ContainerRegistrationKeys.LOGGER, { allowUnregistered: true }) ?? console
  const db = resolveKnex(container)
  const sharedContainer = container.resolve<MedusaContainer>("sharedContainer", { allowUnregistered: true }) ?? container

  const retention = new ExecutionRetention(db, logger as Logger, resolved)
  const newTransactions = new NewTransactions()
  const storage = new PostgresWorkflowStorage(db, logger as Logger, resolved, retention, newTransactions)
  const orchestrator = new WorkflowOrchestrator(sharedContainer, logger as Logger, newTransactions)
  storage.setRunner(orchestrator)

  DistributedTransaction.setStorage(storage)
  WorkflowScheduler.setStorage(storage)

  container.register({
    workflowStorage: asValue(storage),
    workflowOrchestrator: asValue(orchestrator),
    workflowRetention: asValue(retention),
    workflowListing: asValue(new ExecutionListing(db, logger as Logger)),
    workflowExecutionStorage: asValue(new ExecutionStorage(db, resolved)),
  })
}

// The module shares the application's pool; its own MikroORM manager wraps the same one.
function resolveKnex(container: MedusaContainer): Knex {
  const shared = container.resolve<Knex>(ContainerRegistrationKeys.PG_CONNECTION, { allowUnregistered: true })
  return shared ?? container.resolve<any>("manager").getKnex()
}
