import { moduleIntegrationTestRunner } from "../modules/__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  waitUntil,
} from "../modules/__fixtures__/engine"
import { CLUSTER_LOG_TABLE, readLog } from "./__fixtures__/cluster-log"
import { ANSWERED_STEP, CLUSTER_WF } from "./__fixtures__/cluster-workflows-ids"
import { ask, Instance, kill, startInstance } from "./__fixtures__/instances"
import { FaultyProxy } from "./__fixtures__/faulty-proxy"

jest.setTimeout(120000)

// The statements that store a run's start, and a checkpoint of a run as this execution last saw it (storage/sql).
const START_WRITE = "workflow_engine_insert_execution"
const CHECKPOINT_WRITE = "workflow_engine_update_unchanged_execution"

/*
 * A checkpoint's write committed, and its reply was lost with the connection:
 * the engine cannot tell it from a write that never ran, so it sends it
 * again. Sent again, it must find its own write and go on, as if the reply
 * had come: not take it for another execution's and stop the run there.
 */
moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: ({ service: engine, medusaApp }) => {
    const db = () => knexOf(medusaApp)
    let proxy: FaultyProxy
    let instance: Instance

    beforeEach(async () => {
      // Only the instance process works here, through the proxy.
      await (engine as any).__hooks.onApplicationShutdown()
      await db().raw(CLUSTER_LOG_TABLE)
      proxy = await FaultyProxy.start()
      instance = await startInstance("cut-replies", {
        DATABASE_URL: proxy.url(TEST_DATABASE),
      })
    })

    afterEach(async () => {
      await kill(instance)
      await proxy.close()
    })

    const runOf = async (transactionId: string) =>
      (
        await db().raw(
          `SELECT state, execution FROM workflow_execution WHERE transaction_id = ?`,
          [transactionId]
        )
      ).rows[0]

    const startsOf = async (transactionId: string) =>
      (await readLog(db(), "started")).filter(
        (entry) => entry.key === transactionId
      ).length

    it("a run whose stored start lost its reply starts once, and is not refused as already started", async () => {
      const transactionId = "start-reply-lost"
      const cut = proxy.cutReplyTo(START_WRITE)
      await expect(
        ask(instance, { run: { workflowId: CLUSTER_WF.answer, transactionId } })
      ).resolves.toEqual({ state: "invoking", errors: [] })
      await cut

      expect((await runOf(transactionId))?.state).toBe("invoking")
      // Its async step's handler runs once the run call returned.
      await waitUntil(async () => (await startsOf(transactionId)) > 0)
      expect(await startsOf(transactionId)).toBe(1)
    })

    it("an answer whose stored write lost its reply is applied once, and the run goes on to its end", async () => {
      const transactionId = "answer-reply-lost"
      await expect(
        ask(instance, { run: { workflowId: CLUSTER_WF.answer, transactionId } })
      ).resolves.toMatchObject({ state: "invoking" })

      const cut = proxy.cutReplyTo(CHECKPOINT_WRITE)
      await expect(
        ask(instance, {
          stepSuccess: {
            workflowId: CLUSTER_WF.answer,
            transactionId,
            stepId: ANSWERED_STEP,
          },
        })
      ).resolves.toEqual({})
      await cut

      await waitUntil(
        async () => (await runOf(transactionId))?.state === "done",
        30000
      )
      const stored = await runOf(transactionId)
      expect(
        stored.execution.steps[`_root.${ANSWERED_STEP}`].invoke.state
      ).toBe("done")
      expect(await startsOf(transactionId)).toBe(1)
      expect(instance.output()).toMatch(/Postgres cannot be reached/)
    })
  },
})
