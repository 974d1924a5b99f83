import { moduleIntegrationTestRunner } from "@medusajs/test-utils"
import { IWorkflowEngineService, Logger } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import { knex } from "@medusajs/framework/mikro-orm/knex"
import { Client } from "pg"
import { ClusterSchedules } from "../../src/modules/workflow-engine/schedules/cluster-schedules"
import { claimTick } from "../../src/modules/workflow-engine/schedules/sql/claim-tick"
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
  ASYNC_STEP,
  asyncStepKey,
  attempts,
  compensations,
  idempotentRuns,
  manualAttempts,
  defineCron,
  defineScheduled,
  storedThreeSteps,
  ticks,
  WF,
} from "./__fixtures__/workflows"

jest.setTimeout(60000)

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp, dbConfig }) => {
    describe("stored executions", () => {
      it("keeps one row per run with the documented shape", async () => {
        const { transaction, result, acknowledgement } = await engine.run(WF.storedThreeSteps, {
          input: { value: 7 },
        })

        expect(result).toEqual({ "test-step-one": 7 })
        expect(transaction.transactionId).toMatch(/^auto-/)
        expect(acknowledgement).toEqual(
          expect.objectContaining({ hasFinished: true, hasFailed: false, workflowId: WF.storedThreeSteps })
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
          "state", "steps", "modelId", "options", "metadata", "startedAt", "definition", "timedOutAt",
          "hasAsyncSteps", "transactionId", "hasFailedSteps", "hasSkippedSteps", "hasWaitingSteps",
          "hasRevertedSteps", "hasSkippedOnFailureSteps",
        ]) {
          expect(execution.execution).toHaveProperty(key)
        }
        expect(execution.execution!.state).toBe("done")
        expect(execution.execution!.steps["_root.test-step-one"].invoke.state).toBe("done")
        // Each step's end is stamped in the run's own process and stored with its last checkpoint.
        for (const step of Object.values(execution.execution!.steps).filter((s: any) => s.id !== "_root") as any[]) {
          expect(step.endedAt).toEqual(expect.any(Number))
          expect(step.endedAt).toBeGreaterThanOrEqual(step.startedAt)
        }
        expect(execution.context).toEqual({
          data: {
            payload: { value: 7 },
            invoke: expect.objectContaining({
              "test-step-one": expect.objectContaining({ output: expect.anything() }),
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
        const { transaction } = await storedThreeSteps(medusaApp.sharedContainer).run({ input: { value: 2 } })
        const rows = await rowsOf(knexOf(medusaApp), transaction.transactionId)
        expect(rows).toHaveLength(1)
        expect(rows[0].state).toBe("done")
      })

      it("issues 3 SQL statements for a stored 3-step run (2 when the engine picks its id), and none for a run that is not stored", async () => {
        const db = knexOf(medusaApp)
        // Warm up so lazy work of a first run is not counted.
        await engine.run(WF.storedThreeSteps, { input: { value: 1 } })
        await engine.run(WF.notStored, { input: { value: 1 } })

        // With the caller's transaction id: read it (it may exist), insert, update.
        const stored = await recordSql(db, () =>
          engine.run(WF.storedThreeSteps, { input: { value: 2 }, transactionId: "counted-statements" })
        )
        expect(stored.statements.map((sql) => sql.trim().split(/\s/)[0])).toEqual(["SELECT", "INSERT", "UPDATE"])

        // With an id the engine generates, nothing can exist under it yet: no read.
        const generated = await recordSql(db, () => engine.run(WF.storedThreeSteps, { input: { value: 2 } }))
        expect(generated.statements.map((sql) => sql.trim().split(/\s/)[0])).toEqual(["INSERT", "UPDATE"])
        // Both as named prepared statements, parsed and planned once per connection.
        expect(generated.prepared).toEqual(["workflow_engine_insert_execution", "workflow_engine_update_untouched_execution"])
        const { transactionId } = (generated.result as any).transaction
        expect((await rowsOf(db, transactionId)).map((row: any) => row.state)).toEqual(["done"])

        const plain = await recordSql(db, () => engine.run(WF.notStored, { input: { value: 3 } }))
        expect((plain.result as { result: unknown }).result).toEqual({ "test-plain-step": 3 })
        expect(plain.statements).toEqual([])
      })

      it("never writes a row for a workflow that is neither stored nor long-running", async () => {
        const { transaction } = await engine.run(WF.notStored, { input: { value: 1 }, transactionId: "plain-1" })
        expect(await rowsOf(knexOf(medusaApp), transaction.transactionId)).toEqual([])
        expect(await engine.listWorkflowExecutions({ workflow_id: WF.notStored })).toEqual([])
      })

      it("removes a finished run without retention, as Medusa's engines do", async () => {
        const { transaction } = await engine.run(WF.noRetention, { input: { value: 1 } })
        expect(await rowsOf(knexOf(medusaApp), transaction.transactionId)).toEqual([])
      })

      it("records a step failure whose compensation succeeds as reverted, with the error", async () => {
        compensations.length = 0
        const { transaction, errors } = await engine.run(WF.compensated, { throwOnError: false })

        expect(errors[0].error.message).toBe("step failed on purpose")
        expect(compensations).toEqual(["undo-me"])
        const [execution] = await engine.listWorkflowExecutions({ transaction_id: transaction.transactionId })
        expect(execution.state).toBe("reverted")
        expect(execution.execution!.state).toBe("reverted")
        // Steps that ended, in success or failure, keep their end through the compensation.
        for (const step of Object.values(execution.execution!.steps).filter((s: any) => s.id !== "_root") as any[]) {
          expect([step.id, step.endedAt]).toEqual([step.id, expect.any(Number)])
        }
        expect(execution.context!.errors).toEqual([
          expect.objectContaining({
            action: "test-failing",
            handlerType: "invoke",
            error: expect.objectContaining({ message: "step failed on purpose", name: "Error", stack: expect.any(String) }),
          }),
        ])
      })

      it("throws the step's error by default", async () => {
        // As with Medusa's engines, what is thrown is the step's serialized error.
        await expect(engine.run(WF.compensated)).rejects.toMatchObject({ message: "step failed on purpose" })
      })

      it("records a failing compensation as failed", async () => {
        const { transaction } = await engine.run(WF.failedCompensation, { throwOnError: false })
        const [execution] = await engine.listWorkflowExecutions({ transaction_id: transaction.transactionId })
        expect(execution.state).toBe("failed")
        const messages = execution.context!.errors.map((e: any) => e.error.message)
        expect(messages).toEqual(expect.arrayContaining(["second step failed", "compensation failed on purpose"]))
      })
    })

    describe("async steps", () => {
      it("waits in invoking, then finishes when setStepSuccess is called", async () => {
        const { transaction, acknowledgement } = await engine.run(WF.asyncStep, { input: { value: 21 } })
        expect(acknowledgement.hasFinished).toBe(false)
        const transactionId = transaction.transactionId

        let [execution] = await engine.listWorkflowExecutions({ transaction_id: transactionId })
        expect(execution.state).toBe("invoking")
        expect(execution.execution!.steps[`_root.test-before-async.${ASYNC_STEP}`].invoke.status).toBe("waiting_response")

        const running: any = await engine.getRunningTransaction(WF.asyncStep, transactionId)
        expect(running.getFlow().state).toBe("invoking")

        const finished = waitForFinish(engine, WF.asyncStep, transactionId)
        await engine.setStepSuccess({ idempotencyKey: asyncStepKey(transactionId), stepResponse: { ok: true } })
        expect((await finished).state).toBe("done")

        ;[execution] = await engine.listWorkflowExecutions({ transaction_id: transactionId })
        expect(execution.state).toBe("done")
        expect(execution.context!.data.invoke["test-after-async"].output.output).toBe(42)
      })

      it("accepts the idempotency key as a string", async () => {
        const { transaction } = await engine.run(WF.asyncStep, { input: { value: 1 } })
        const key = `${WF.asyncStep}:${transaction.transactionId}:${ASYNC_STEP}:invoke`
        await engine.setStepSuccess({ idempotencyKey: key, stepResponse: {} })
        const [execution] = await engine.listWorkflowExecutions({ transaction_id: transaction.transactionId })
        expect(execution.state).toBe("done")
      })

      it("compensates when setStepFailure is called", async () => {
        const { transaction } = await engine.run(WF.asyncStep, { input: { value: 1 } })
        await engine.setStepFailure({
          idempotencyKey: asyncStepKey(transaction.transactionId),
          stepResponse: new Error("rejected by the outside world"),
          options: { throwOnError: false },
        })
        const [execution] = await engine.listWorkflowExecutions({ transaction_id: transaction.transactionId })
        expect(execution.state).toBe("reverted")
        expect(execution.context!.errors[0].error.message).toBe("rejected by the outside world")
      })

      it("fails permanently with forcePermanentFailure", async () => {
        const { transaction } = await engine.run(WF.asyncStep, { input: { value: 1 } })
        await engine.setStepFailure({
          idempotencyKey: asyncStepKey(transaction.transactionId),
          stepResponse: new Error("no retry for you"),
          options: { throwOnError: false, forcePermanentFailure: true },
        })
        const [execution] = await engine.listWorkflowExecutions({ transaction_id: transaction.transactionId })
        expect(execution.execution!.steps[`_root.test-before-async.${ASYNC_STEP}`].invoke.status).toBe(
          "permanent_failure"
        )
        expect(["reverted", "failed"]).toContain(execution.state)
      })

      it("completes the parent step when an async sub-workflow finishes", async () => {
        // The child starts in the background, as async steps do.
        const childWaiting = new Promise<void>((resolve) => {
          void engine.subscribe({
            workflowId: WF.child,
            subscriber: (event: any) => event.eventType === "onStepAwaiting" && resolve(),
          })
        })
        const { transaction } = await engine.run(WF.parent, { input: {} })
        const parentId = transaction.transactionId
        const [parentBefore] = await engine.listWorkflowExecutions({ transaction_id: parentId })
        expect(parentBefore.state).toBe("invoking")

        await childWaiting
        const [childRun] = await engine.listWorkflowExecutions({ workflow_id: WF.child })
        expect(childRun.state).toBe("invoking")
        expect(childRun.execution!.metadata.parentStepIdempotencyKey).toContain(parentId)

        const parentDone = waitForFinish(engine, WF.parent, parentId)
        await engine.setStepSuccess({
          idempotencyKey: {
            workflowId: WF.child,
            transactionId: childRun.transaction_id,
            stepId: "test-child-wait",
            action: "invoke",
          },
          stepResponse: {},
        })
        const event = await parentDone
        expect(event.state).toBe("done")
        expect(event.result).toBe("child-done")
      })
    })

    describe("timers and schedules", () => {
      it("retries a failing step after its retry interval", async () => {
        attempts.count = 0
        const transactionId = "retry-1"
        const finished = waitForFinish(engine, WF.retryInterval, transactionId)
        const { acknowledgement } = await engine.run(WF.retryInterval, { transactionId, throwOnError: false })
        expect(acknowledgement.hasFinished).toBe(false)

        const [waiting] = await engine.listWorkflowExecutions({ transaction_id: transactionId })
        expect(waiting.state).toBe("invoking")

        const event = await finished
        expect(event.state).toBe("done")
        expect(attempts.count).toBe(2)
        const [execution] = await engine.listWorkflowExecutions({ transaction_id: transactionId })
        expect(execution.state).toBe("done")
      })

      it("stores a synchronous step held after a failure (autoRetry: false) and retries it when the transaction runs again", async () => {
        manualAttempts.count = 0
        const transactionId = "manual-retry-1"
        const { acknowledgement } = await engine.run(WF.manualRetry, { transactionId, throwOnError: false })
        expect(acknowledgement.hasFinished).toBe(false)
        expect(manualAttempts.count).toBe(1)

        const [held] = await engine.listWorkflowExecutions({ transaction_id: transactionId })
        expect(held.state).toBe("invoking")
        expect(held.execution?.steps["_root.test-held-on-failure"].invoke.status).toBe("temp_failure")

        const { acknowledgement: again, result } = await engine.run(WF.manualRetry, { transactionId })
        expect(again.hasFinished).toBe(true)
        expect(result).toBe(2)
        const [execution] = await engine.listWorkflowExecutions({ transaction_id: transactionId })
        expect(execution.state).toBe("done")
      })

      it("compensates a run whose step timed out just before it ran (its checkpoint waited past the deadline)", async () => {
        const db = knexOf(medusaApp)
        const transactionId = "timed-out-before-it-ran"
        // The checkpoint that starts the step waits for a lock this test holds (a database slow or restarting), past the step's 1 s timeout.
        await db.raw(`
          CREATE OR REPLACE FUNCTION test_hold_update() RETURNS trigger AS $$
          BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NEW; END $$ LANGUAGE plpgsql;
          CREATE TRIGGER test_hold_update BEFORE UPDATE ON workflow_execution
            FOR EACH ROW WHEN (NEW.transaction_id = '${transactionId}') EXECUTE FUNCTION test_hold_update();`)
        const updatesWaiting = async () =>
          (
            await db.raw(
              `SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE "workflow_execution"%'`
            )
          ).rows[0].n
        const lock = await db.transaction()
        let running: ReturnType<typeof engine.run> | undefined
        try {
          await lock.raw(`SELECT pg_advisory_xact_lock(4242)`)
          const startedAt = Date.now()
          running = engine.run(WF.stepTimeout, { transactionId, throwOnError: false })
          await waitUntil(async () => (await updatesWaiting()) === 1)
          await waitUntil(() => Date.now() - startedAt > 1500)
        } finally {
          await lock.commit()
          await db.raw(`DROP TRIGGER test_hold_update ON workflow_execution; DROP FUNCTION test_hold_update();`)
        }
        const { transaction } = await running!
        expect(transaction.getFlow().state).toBe("reverted")
        const [execution] = await engine.listWorkflowExecutions({ transaction_id: transactionId })
        expect(execution.state).toBe("reverted")
        expect(execution.execution!.steps["_root.test-slow-async"].invoke.state).toBe("timeout")
      })

      it("times out an async step that nobody completes", async () => {
        const { transaction } = await engine.run(WF.stepTimeout, { throwOnError: false })
        const event = await waitForFinish(engine, WF.stepTimeout, transaction.transactionId)
        expect(["reverted", "failed"]).toContain(event.state)
        const [execution] = await engine.listWorkflowExecutions({ transaction_id: transaction.transactionId })
        expect(execution.execution!.steps["_root.test-slow-async"].invoke.state).toBe("timeout")
      })

      it("times out a whole transaction and tells subscribers", async () => {
        const events: string[] = []
        await engine.subscribe({ workflowId: WF.transactionTimeout, subscriber: (e: any) => events.push(e.eventType) })
        const { transaction } = await engine.run(WF.transactionTimeout, { throwOnError: false })
        const event = await waitForFinish(engine, WF.transactionTimeout, transaction.transactionId)
        expect(["reverted", "failed"]).toContain(event.state)
        expect(events).toContain("onTimeout")
        const [execution] = await engine.listWorkflowExecutions({ transaction_id: transaction.transactionId })
        expect(execution.execution!.timedOutAt).toEqual(expect.any(Number))
      })

      it("runs a cron-scheduled workflow", async () => {
        ticks.length = 0
        defineCron("* * * * * *", 1)
        await waitUntil(() => ticks.length >= 1)
        expect(new Date(ticks[0]).getMilliseconds()).toBe(0)
      })

      it("runs a scheduled workflow on its interval, as often as asked", async () => {
        ticks.length = 0
        defineScheduled(100, 2)
        await waitUntil(() => ticks.length >= 2)
        // Used up for the whole cluster: made due again, it is claimed by no instance, with the limit it was stored with.
        const db = knexOf(medusaApp)
        const [row] = (
          await db.raw(
            `UPDATE workflow_engine_schedule SET next_run_at = now() WHERE job_id = ?
             RETURNING executions, (options ->> 'numberOfExecutions')::int AS "limit"`,
            [WF.scheduled]
          )
        ).rows
        expect(row).toEqual({ executions: 2, limit: 2 })
        const claim = await claimTick(db, {
          jobId: WF.scheduled,
          instanceId: "wf_inst_another",
          nextRunAt: new Date(),
          allowConcurrent: false,
          limit: row.limit,
          runningHere: false,
        })
        expect(claim).toEqual({ scheduled_for: null, runs: null, next_run_at: null })
        expect(ticks).toHaveLength(2)
        expect(new Date(ticks[0]).getTime()).toBeLessThan(new Date(ticks[1]).getTime())
      })

      it("runs the next tick after the database failed to record the last one finished", async () => {
        // Schedules of an instance of the test's own, whose statements give up waiting for a row lock after 200 ms.
        const db = knex({ client: "pg", connection: { connectionString: dbConfig.clientUrl, options: "-c lock_timeout=200" } })
        const instanceId = "wf_inst_schedules_test"
        const jobId = "test-finish-not-recorded"
        await db.raw(
          `INSERT INTO workflow_engine_instance (id, hostname, pid, worker_mode, lease_expires_at)
           VALUES (?, 'test', 1, 'shared', now() + interval '10 minutes')`,
          [instanceId]
        )
        let finishFailed!: () => void
        const finishFailedOnce = new Promise<void>((resolve) => (finishFailed = resolve))
        const logger = {
          info: () => undefined,
          error: () => undefined,
          debug: () => undefined,
          warn: (message: string) => /could not mark its tick finished/.test(message) && finishFailed(),
        } as unknown as Logger
        const holder = new Client({ connectionString: dbConfig.clientUrl })
        await holder.connect()
        const ran: Date[] = []
        const schedules = new ClusterSchedules(db, logger, { instanceId, runs: true, pollIntervalMs: 100 }, async (_, at) => {
          ran.push(at)
          if (ran.length === 1) {
            // Someone else holds the schedule's row, so the finish that follows this tick fails.
            await holder.query("BEGIN")
            await holder.query(`SELECT 1 FROM workflow_engine_schedule WHERE job_id = $1 FOR UPDATE`, [jobId])
          }
          return "ok"
        })
        try {
          await schedules.start()
          await schedules.schedule(jobId, { interval: 100 })
          await finishFailedOnce
          await holder.query("COMMIT")
          // The tick's mark outlived it; the instance that left it clears it at its next claim.
          await waitUntil(() => ran.length >= 2, 5000)
        } finally {
          await schedules.stop()
          await db.raw(`DELETE FROM workflow_engine_schedule WHERE job_id = ?`, [jobId])
          await db.raw(`DELETE FROM workflow_engine_instance WHERE id = ?`, [instanceId])
          await db.destroy()
          await holder.end()
        }
      })
    })

    describe("generated CRUD methods", () => {
      it("soft-delete, restore and delete executions by filter, like any Medusa module's models", async () => {
        const { transaction } = await engine.run(WF.storedThreeSteps, { input: { value: 1 } })
        const [execution] = await engine.listWorkflowExecutions({ transaction_id: transaction.transactionId })

        await (engine as any).softDeleteWorkflowExecutions({ id: execution.id })
        expect(await engine.listWorkflowExecutions({ transaction_id: transaction.transactionId })).toEqual([])
        await (engine as any).restoreWorkflowExecutions({ id: execution.id })
        expect(await engine.listWorkflowExecutions({ transaction_id: transaction.transactionId })).toHaveLength(1)

        await (engine as any).deleteWorkflowExecutions({ id: execution.id })
        expect(await rowsOf(knexOf(medusaApp), transaction.transactionId)).toEqual([])
      })
    })

    describe("cancel", () => {
      it("reverts a finished stored run", async () => {
        compensations.length = 0
        const { transaction } = await engine.run(WF.storedThreeSteps, { input: { value: 1 }, transactionId: "to-cancel" })
        const { acknowledgement } = await engine.cancel(WF.storedThreeSteps, { transactionId: transaction.transactionId })
        expect(acknowledgement).toEqual(expect.objectContaining({ exists: true, hasFinished: true, hasFailed: false }))
        const [execution] = await engine.listWorkflowExecutions({ transaction_id: "to-cancel" })
        expect(execution.state).toBe("reverted")
        expect(execution.execution!.cancelledAt).toEqual(expect.any(Number))
      })

      it("marks a run waiting on an async step for compensation, as Medusa's engines do", async () => {
        const { transaction } = await engine.run(WF.asyncStep, { input: { value: 1 } })
        await engine.cancel(WF.asyncStep, { transactionId: transaction.transactionId })
        const [execution] = await engine.listWorkflowExecutions({ transaction_id: transaction.transactionId })
        expect(execution.state).toBe("waiting_to_compensate")
        expect(execution.execution!.cancelledAt).toEqual(expect.any(Number))
      })

      it("reports an unknown transaction", async () => {
        const { acknowledgement } = await engine.cancel(WF.storedThreeSteps, {
          transactionId: "never-ran",
          throwOnError: false,
        })
        expect(acknowledgement.exists).toBe(false)
        await expect(engine.cancel(WF.storedThreeSteps, { transactionId: "never-ran" })).rejects.toThrow(/never-ran/)
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
        await engine.setStepSuccess({ idempotencyKey: asyncStepKey(transactionId), stepResponse: {} })
        await finished
        await new Promise((resolve) => setImmediate(resolve))

        for (const expected of ["onBegin", "onStepBegin", "onStepSuccess", "onStepAwaiting", "onResume", "onFinish"]) {
          expect(events).toContain(expected)
        }
        expect(anyEvents).toContain("onFinish")

        await engine.unsubscribe({ workflowId: WF.asyncStep, subscriberOrId: "all" })
        anyEvents.length = 0
        // A subscriber still there hears the next run; the one removed must hear nothing of it.
        const witnessed: string[] = []
        await engine.subscribe({
          workflowId: WF.asyncStep,
          transactionId: "subscribed-2",
          subscriber: (event: any) => witnessed.push(event.eventType),
        })
        await engine.run(WF.asyncStep, { input: { value: 1 }, transactionId: "subscribed-2" })
        await waitUntil(() => witnessed.includes("onStepAwaiting"))
        expect(anyEvents).toEqual([])
      })

      it("hear compensation events", async () => {
        const events: string[] = []
        await engine.subscribe({ workflowId: WF.compensated, subscriber: (e: any) => events.push(e.eventType) })
        await engine.run(WF.compensated, { throwOnError: false })
        await waitUntil(() => events.includes("onFinish"))
        expect(events).toEqual(
          expect.arrayContaining(["onStepFailure", "onCompensateBegin", "onCompensateStepSuccess", "onFinish"])
        )
      })
    })

    describe("transaction ids", () => {
      it("starts one run per manual transaction id and refuses a second while the first is in flight", async () => {
        await engine.run(WF.asyncStep, { input: { value: 1 }, transactionId: "manual-1" })
        // A second run with the same id continues the same transaction instead of starting another.
        const again = await engine.run(WF.asyncStep, { input: { value: 2 }, transactionId: "manual-1" })
        expect(again.acknowledgement.hasFinished).toBe(false)
        const rows = await rowsOf(knexOf(medusaApp), "manual-1")
        expect(rows).toHaveLength(1)
      })

      it("answers a finished idempotent transaction from its stored run instead of running it again", async () => {
        idempotentRuns.count = 0
        const first = await engine.run(WF.idempotent, { transactionId: "idem-1" })
        const second = await engine.run(WF.idempotent, { transactionId: "idem-1" })
        expect(first.result).toBe(1)
        expect(second.result).toBe(1)
        expect(idempotentRuns.count).toBe(1)
        expect(await rowsOf(knexOf(medusaApp), "idem-1")).toHaveLength(1)
      })

      it("runs a finished transaction id again as a new run, keeping the old one", async () => {
        await engine.run(WF.storedThreeSteps, { input: { value: 1 }, transactionId: "again-1" })
        await engine.run(WF.storedThreeSteps, { input: { value: 2 }, transactionId: "again-1" })
        const rows = await rowsOf(knexOf(medusaApp), "again-1")
        expect(rows).toHaveLength(2)
        expect(new Set(rows.map((row: any) => row.run_id)).size).toBe(2)
        const newest = await engine.retrieveWorkflowExecution({ workflow_id: WF.storedThreeSteps, transaction_id: "again-1" })
        expect(newest.context!.data.payload).toEqual({ value: 2 })
      })

      it("lets the database refuse a second in-flight run of one transaction", async () => {
        const db = knexOf(medusaApp)
        await engine.run(WF.asyncStep, { input: { value: 1 }, transactionId: "manual-2" })
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

