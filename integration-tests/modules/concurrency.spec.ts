import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  rowsOf,
  waitForFinish,
  waitUntil,
  withEngineShutdown,
} from "./__fixtures__/engine"
import { ASYNC_STEP, midStep, WF } from "./__fixtures__/workflows"

jest.setTimeout(60000)

const key = (transactionId: string, stepId: string) => ({
  workflowId: WF.parallelAsync,
  transactionId,
  stepId,
  action: "invoke" as const,
})

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    it("merges two async steps completed at the same moment into one run", async () => {
      const { transaction } = await engine.run(WF.parallelAsync)
      const transactionId = transaction.transactionId
      const finished = waitForFinish(engine, WF.parallelAsync, transactionId)

      await Promise.all([
        engine.setStepSuccess({
          idempotencyKey: key(transactionId, "test-wait-a"),
          stepResponse: "from a",
        }),
        engine.setStepSuccess({
          idempotencyKey: key(transactionId, "test-wait-b"),
          stepResponse: "from b",
        }),
      ])

      const event = await finished
      expect(event.state).toBe("done")
      expect(event.result).toEqual({ a: "from a", b: "from b" })
      const rows = await rowsOf(knexOf(medusaApp), transactionId)
      expect(rows).toHaveLength(1)
      expect(rows[0].state).toBe("done")
      expect(JSON.stringify(rows[0].context.data.invoke)).toEqual(
        expect.stringContaining("from a")
      )
      expect(JSON.stringify(rows[0].context.data.invoke)).toEqual(
        expect.stringContaining("from b")
      )
    })

    it("applies one of two answers to one step given at once in one process; the other is told it was answered", async () => {
      const { transaction } = await engine.run(WF.asyncStep, {
        input: { value: 2 },
      })
      const transactionId = transaction.transactionId
      const idempotencyKey = {
        workflowId: WF.asyncStep,
        transactionId,
        stepId: ASYNC_STEP,
        action: "invoke" as const,
      }

      const settled = await Promise.allSettled([
        engine.setStepSuccess({ idempotencyKey, stepResponse: "first" }),
        engine.setStepFailure({
          idempotencyKey,
          stepResponse: new Error("second"),
          options: { throwOnError: false },
        }),
      ])

      const [applied, ...others] = settled.filter(
        (outcome) => outcome.status === "fulfilled"
      )
      expect(others).toEqual([])
      const refused = settled.find(
        (outcome) => outcome.status === "rejected"
      ) as PromiseRejectedResult
      expect(refused.reason.type).toBe("not_allowed")
      expect(refused.reason.message).toMatch(/already answered|not waiting/)
      const [row] = await rowsOf(knexOf(medusaApp), transactionId)
      const successWon = applied === settled[0]
      expect(row.state).toBe(successWon ? "done" : "reverted")
      expect(row.context.data.invoke[ASYNC_STEP]).toEqual(
        successWon ? "first" : undefined
      )
    })

    it("never overwrites a cancel that another instance wrote while a synchronous run was finishing", async () => {
      const db = knexOf(medusaApp)
      midStep.act = async (transactionId) => {
        await db.raw(
          `UPDATE workflow_execution
              SET state = 'waiting_to_compensate',
                  execution = jsonb_set(jsonb_set(execution, '{cancelledAt}', '1'), '{state}', '"waiting_to_compensate"')
            WHERE transaction_id = ?`,
          [transactionId]
        )
      }
      try {
        const { transaction } = await engine.run(WF.interrupted, {
          transactionId: "interrupted-1",
          throwOnError: false,
        })
        expect(transaction.getFlow().state).toBe("done")
      } finally {
        midStep.act = async () => {}
      }
      const [row] = await rowsOf(db, "interrupted-1")
      expect(row.state).toBe("waiting_to_compensate")
      expect(row.execution.cancelledAt).toBe(1)
    })

    it("waits for a row lock held elsewhere before saving: the database orders the saves", async () => {
      const db = knexOf(medusaApp)
      const { transaction } = await engine.run(WF.parallelAsync)
      const transactionId = transaction.transactionId

      // Another instance holds the run's row.
      const holder = await db.transaction()
      await holder.raw(
        `SELECT 1 FROM workflow_execution WHERE transaction_id = ? FOR UPDATE`,
        [transactionId]
      )

      let settled = false
      const completing = engine
        .setStepSuccess({
          idempotencyKey: key(transactionId, "test-wait-a"),
          stepResponse: "a",
        })
        .finally(() => (settled = true))

      // The engine's save is queued behind the lock, not applied around it.
      await waitUntil(async () => {
        const { rows } = await db.raw(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`
        )
        return rows[0].waiting > 0
      })
      expect(settled).toBe(false)

      await holder.commit()
      await completing
      const [row] = await rowsOf(db, transactionId)
      expect(row.execution.steps["_root.test-wait-a"].invoke.state).toBe("done")
      expect(row.execution.steps["_root.test-wait-b"].invoke.state).toBe(
        "invoking"
      )
    })
  }),
})
