import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  recordSql,
  rowsOf,
  waitForFinish,
  waitUntil,
  withEngineShutdown,
  TEST_DATABASE,
} from "./__fixtures__/engine"
import {
  asyncStepKey,
  compensations,
  idempotentRuns,
  storedThreeSteps,
  WF,
} from "./__fixtures__/workflows"

jest.setTimeout(60000)

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    describe("stored executions", () => {
      it("keeps one row per run with the documented shape", async () => {
        const { transaction, result, acknowledgement } = await engine.run(
          WF.storedThreeSteps,
          {
            input: { value: 7 },
          }
        )

        expect(result).toEqual({ "test-step-one": 7 })
        expect(transaction.transactionId).toMatch(/^auto-/)
        expect(acknowledgement).toEqual(
          expect.objectContaining({
            hasFinished: true,
            hasFailed: false,
            workflowId: WF.storedThreeSteps,
          })
        )

        const [execution, ...others] = await engine.listWorkflowExecutions({
          transaction_id: transaction.transactionId,
        })
        expect(others).toHaveLength(0)
        expect(execution).toEqual(
          expect.objectContaining({
            id: expect.stringMatching(/^wf_exec_/),
            workflow_id: WF.storedThreeSteps,
            transaction_id: transaction.transactionId,
            state: "done",
            deleted_at: null,
            created_at: expect.any(Date),
            updated_at: expect.any(Date),
          })
        )
        for (const key of [
          "state",
          "steps",
          "modelId",
          "options",
          "metadata",
          "startedAt",
          "definition",
          "timedOutAt",
          "hasAsyncSteps",
          "transactionId",
          "hasFailedSteps",
          "hasSkippedSteps",
          "hasWaitingSteps",
          "hasRevertedSteps",
          "hasSkippedOnFailureSteps",
        ]) {
          expect(execution.execution).toHaveProperty(key)
        }
        expect(execution.execution!.state).toBe("done")
        expect(
          execution.execution!.steps["_root.test-step-one"].invoke.state
        ).toBe("done")
        // Each step's end is stamped in the run's own process and stored with its last checkpoint.
        for (const step of Object.values(execution.execution!.steps).filter(
          (s: any) => s.id !== "_root"
        ) as any[]) {
          expect(step.endedAt).toEqual(expect.any(Number))
          expect(step.endedAt).toBeGreaterThanOrEqual(step.startedAt)
        }
        expect(execution.context).toEqual({
          data: {
            payload: { value: 7 },
            invoke: expect.objectContaining({
              "test-step-one": expect.objectContaining({
                output: expect.anything(),
              }),
            }),
            compensate: {},
          },
          errors: [],
        })

        const [row] = await rowsOf(knexOf(medusaApp), transaction.transactionId)
        expect(row.retention_time).toBe(99999)
        expect(row.run_id).toBe(execution.execution!.runId)
      })

      it("stores runs started through the workflow itself, not only through the module", async () => {
        const { transaction } = await storedThreeSteps(
          medusaApp.sharedContainer
        ).run({ input: { value: 2 } })
        const rows = await rowsOf(knexOf(medusaApp), transaction.transactionId)
        expect(rows).toHaveLength(1)
        expect(rows[0].state).toBe("done")
      })

      it("issues 3 SQL statements for a stored 3-step run (2 when the engine picks its id), and none for a run that is not stored", async () => {
        const db = knexOf(medusaApp)
        // Warm up so lazy work of a first run is not counted.
        await engine.run(WF.storedThreeSteps, { input: { value: 1 } })
        await engine.run(WF.notStored, { input: { value: 1 } })

        // With the caller's transaction id: read it (it may exist), insert, update (a WITH: the update and,
        // for a run that failed, its event, events/).
        const stored = await recordSql(db, () =>
          engine.run(WF.storedThreeSteps, {
            input: { value: 2 },
            transactionId: "counted-statements",
          })
        )
        expect(
          stored.statements.map((sql) => sql.trim().split(/\s/)[0])
        ).toEqual(["SELECT", "INSERT", "WITH"])

        // With an id the engine generates, nothing can exist under it yet: no read.
        const generated = await recordSql(db, () =>
          engine.run(WF.storedThreeSteps, { input: { value: 2 } })
        )
        expect(
          generated.statements.map((sql) => sql.trim().split(/\s/)[0])
        ).toEqual(["INSERT", "WITH"])
        // Both as named prepared statements, parsed and planned once per connection.
        expect(generated.prepared).toEqual([
          "workflow_engine_insert_execution",
          "workflow_engine_update_untouched_execution",
        ])
        const { transactionId } = (generated.result as any).transaction
        expect(
          (await rowsOf(db, transactionId)).map((row: any) => row.state)
        ).toEqual(["done"])

        const plain = await recordSql(db, () =>
          engine.run(WF.notStored, { input: { value: 3 } })
        )
        expect((plain.result as { result: unknown }).result).toEqual({
          "test-plain-step": 3,
        })
        expect(plain.statements).toEqual([])
      })

      it("never writes a row for a workflow that is neither stored nor long-running", async () => {
        const { transaction } = await engine.run(WF.notStored, {
          input: { value: 1 },
          transactionId: "plain-1",
        })
        expect(
          await rowsOf(knexOf(medusaApp), transaction.transactionId)
        ).toEqual([])
        expect(
          await engine.listWorkflowExecutions({ workflow_id: WF.notStored })
        ).toEqual([])
      })

      it("removes a finished run without retention, as Medusa's engines do", async () => {
        const { transaction } = await engine.run(WF.noRetention, {
          input: { value: 1 },
        })
        expect(
          await rowsOf(knexOf(medusaApp), transaction.transactionId)
        ).toEqual([])
      })

      it("records a step failure whose compensation succeeds as reverted, with the error", async () => {
        compensations.length = 0
        const { transaction, errors } = await engine.run(WF.compensated, {
          throwOnError: false,
        })

        expect(errors[0].error.message).toBe("step failed on purpose")
        expect(compensations).toEqual(["undo-me"])
        const [execution] = await engine.listWorkflowExecutions({
          transaction_id: transaction.transactionId,
        })
        expect(execution.state).toBe("reverted")
        expect(execution.execution!.state).toBe("reverted")
        // Steps that ended, in success or failure, keep their end through the compensation.
        for (const step of Object.values(execution.execution!.steps).filter(
          (s: any) => s.id !== "_root"
        ) as any[]) {
          expect([step.id, step.endedAt]).toEqual([step.id, expect.any(Number)])
        }
        expect(execution.context!.errors).toEqual([
          expect.objectContaining({
            action: "test-failing",
            handlerType: "invoke",
            error: expect.objectContaining({
              message: "step failed on purpose",
              name: "Error",
              stack: expect.any(String),
            }),
          }),
        ])
      })

      it("throws the step's error by default", async () => {
        // As with Medusa's engines, what is thrown is the step's serialized error.
        await expect(engine.run(WF.compensated)).rejects.toMatchObject({
          message: "step failed on purpose",
        })
      })

      it("records a failing compensation as failed", async () => {
        const { transaction } = await engine.run(WF.failedCompensation, {
          throwOnError: false,
        })
        const [execution] = await engine.listWorkflowExecutions({
          transaction_id: transaction.transactionId,
        })
        expect(execution.state).toBe("failed")
        const messages = execution.context!.errors.map(
          (e: any) => e.error.message
        )
        expect(messages).toEqual(
          expect.arrayContaining([
            "second step failed",
            "compensation failed on purpose",
          ])
        )
      })
    })

    describe("generated CRUD methods", () => {
      it("soft-delete, restore and delete executions by filter, like any Medusa module's models", async () => {
        const { transaction } = await engine.run(WF.storedThreeSteps, {
          input: { value: 1 },
        })
        const [execution] = await engine.listWorkflowExecutions({
          transaction_id: transaction.transactionId,
        })

        await (engine as any).softDeleteWorkflowExecutions({ id: execution.id })
        expect(
          await engine.listWorkflowExecutions({
            transaction_id: transaction.transactionId,
          })
        ).toEqual([])
        await (engine as any).restoreWorkflowExecutions({ id: execution.id })
        expect(
          await engine.listWorkflowExecutions({
            transaction_id: transaction.transactionId,
          })
        ).toHaveLength(1)

        await (engine as any).deleteWorkflowExecutions({ id: execution.id })
        expect(
          await rowsOf(knexOf(medusaApp), transaction.transactionId)
        ).toEqual([])
      })
    })

    describe("subscribers", () => {
      it("hear the life of a transaction, step by step", async () => {
        const transactionId = "subscribed-1"
        const events: string[] = []
        await engine.subscribe({
          workflowId: WF.asyncStep,
          transactionId,
          subscriber: (event: any) => events.push(event.eventType),
        })
        const anyEvents: string[] = []
        await engine.subscribe({
          workflowId: WF.asyncStep,
          subscriber: (event: any) => anyEvents.push(event.eventType),
          subscriberId: "all",
        })

        await engine.run(WF.asyncStep, { input: { value: 1 }, transactionId })
        const finished = waitForFinish(engine, WF.asyncStep, transactionId)
        await engine.setStepSuccess({
          idempotencyKey: asyncStepKey(transactionId),
          stepResponse: {},
        })
        await finished
        await new Promise((resolve) => setImmediate(resolve))

        for (const expected of [
          "onBegin",
          "onStepBegin",
          "onStepSuccess",
          "onStepAwaiting",
          "onResume",
          "onFinish",
        ]) {
          expect(events).toContain(expected)
        }
        expect(anyEvents).toContain("onFinish")

        await engine.unsubscribe({
          workflowId: WF.asyncStep,
          subscriberOrId: "all",
        })
        anyEvents.length = 0
        // A subscriber still there hears the next run; the one removed must hear nothing of it.
        const witnessed: string[] = []
        await engine.subscribe({
          workflowId: WF.asyncStep,
          transactionId: "subscribed-2",
          subscriber: (event: any) => witnessed.push(event.eventType),
        })
        await engine.run(WF.asyncStep, {
          input: { value: 1 },
          transactionId: "subscribed-2",
        })
        await waitUntil(() => witnessed.includes("onStepAwaiting"))
        expect(anyEvents).toEqual([])
      })

      it("hear compensation events", async () => {
        const events: string[] = []
        await engine.subscribe({
          workflowId: WF.compensated,
          subscriber: (e: any) => events.push(e.eventType),
        })
        await engine.run(WF.compensated, { throwOnError: false })
        await waitUntil(() => events.includes("onFinish"))
        expect(events).toEqual(
          expect.arrayContaining([
            "onStepFailure",
            "onCompensateBegin",
            "onCompensateStepSuccess",
            "onFinish",
          ])
        )
      })
    })

    describe("transaction ids", () => {
      it("starts one run per manual transaction id and refuses a second while the first is in flight", async () => {
        await engine.run(WF.asyncStep, {
          input: { value: 1 },
          transactionId: "manual-1",
        })
        // A second run with the same id continues the same transaction instead of starting another.
        const again = await engine.run(WF.asyncStep, {
          input: { value: 2 },
          transactionId: "manual-1",
        })
        expect(again.acknowledgement.hasFinished).toBe(false)
        const rows = await rowsOf(knexOf(medusaApp), "manual-1")
        expect(rows).toHaveLength(1)
      })

      it("answers a finished idempotent transaction from its stored run instead of running it again", async () => {
        idempotentRuns.count = 0
        const first = await engine.run(WF.idempotent, {
          transactionId: "idem-1",
        })
        const second = await engine.run(WF.idempotent, {
          transactionId: "idem-1",
        })
        expect(first.result).toBe(1)
        expect(second.result).toBe(1)
        expect(idempotentRuns.count).toBe(1)
        expect(await rowsOf(knexOf(medusaApp), "idem-1")).toHaveLength(1)
      })

      it("runs a finished transaction id again as a new run, keeping the old one", async () => {
        await engine.run(WF.storedThreeSteps, {
          input: { value: 1 },
          transactionId: "again-1",
        })
        await engine.run(WF.storedThreeSteps, {
          input: { value: 2 },
          transactionId: "again-1",
        })
        const rows = await rowsOf(knexOf(medusaApp), "again-1")
        expect(rows).toHaveLength(2)
        expect(new Set(rows.map((row: any) => row.run_id)).size).toBe(2)
        const newest = await engine.retrieveWorkflowExecution({
          workflow_id: WF.storedThreeSteps,
          transaction_id: "again-1",
        })
        expect(newest.context!.data.payload).toEqual({ value: 2 })
      })

      it("lets the database refuse a second in-flight run of one transaction", async () => {
        const db = knexOf(medusaApp)
        await engine.run(WF.asyncStep, {
          input: { value: 1 },
          transactionId: "manual-2",
        })
        await expect(
          db.raw(
            `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state)
             VALUES ('wf_exec_dup', ?, 'manual-2', 'another-run', 'invoking')`,
            [WF.asyncStep]
          )
        ).rejects.toThrow(/IDX_workflow_execution_in_flight_unique/)
      })
    })
  }),
})
