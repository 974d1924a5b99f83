import { moduleIntegrationTestRunner } from "@medusajs/test-utils"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import WorkflowEngineModule from "../../src/modules/workflow-engine"
import { knexOf, MIGRATIONS_PATH, MODULE_PATH, rowsOf } from "./__fixtures__/engine"
import { PARITY, parityEvents } from "./__fixtures__/parity-workflows"

jest.setTimeout(60000)

/*
 * Scenarios where Medusa's own engine tests showed ours behaving differently
 * from Medusa's engines (issue 11); each states what Medusa's engine does.
 */

const warnings: string[] = []
const recordingLogger = {
  ...console,
  warn: (message: string) => {
    warnings.push(String(message))
  },
}

moduleIntegrationTestRunner<IWorkflowEngineService>({
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: () => {
    it("links to workflow executions only, as Medusa's engine does", () => {
      expect(Object.keys(WorkflowEngineModule.linkable)).toEqual(["workflowExecution"])
      expect(WorkflowEngineModule.linkable.workflowExecution.id).toEqual(
        expect.objectContaining({ linkable: "workflow_execution_id", primaryKey: "id", serviceName: Modules.WORKFLOW_ENGINE })
      )
    })
  },
})

moduleIntegrationTestRunner<IWorkflowEngineService>({
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  // What a store that used Medusa's Redis engine still has in medusa-config.
  moduleOptions: { redis: { redisUrl: "redis://localhost:6379", queueName: "medusa-workflows" } },
  injectedDependencies: { [ContainerRegistrationKeys.LOGGER]: recordingLogger },
  testSuite: ({ service: engine, medusaApp }) => {
    it("starts with the options of Medusa's Redis engine, warning that it ignores them", async () => {
      const { transaction } = await engine.run(PARITY.slowStart, { transactionId: "parity-redis-options" })
      expect(transaction.getFlow().state).toBe("done")
      expect((await rowsOf(knexOf(medusaApp), "parity-redis-options")).map((row: any) => row.state)).toEqual(["done"])
      expect(warnings).toEqual(
        expect.arrayContaining([expect.stringMatching(/option "redis" .*ignore/)])
      )
    })
  },
})

afterAll(() => parityEvents.removeAllListeners())
