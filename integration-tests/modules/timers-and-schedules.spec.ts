import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
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
  waitForFinish,
  waitUntil,
  withEngineShutdown,
  TEST_DATABASE,
} from "./__fixtures__/engine"
import {
  attempts,
  manualAttempts,
  defineCron,
  defineScheduled,
  ticks,
  WF,
} from "./__fixtures__/workflows"

/*
 * What the engine does at a time rather than on a call: retries after their
 * interval, step and transaction timeouts, cron and interval schedules.
 */

jest.setTimeout(60000)

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp, dbConfig }) => {
    describe("timers and schedules", () => {
      it("retries a failing step after its retry interval", async () => {
        attempts.count = 0
        // On a slow machine the retry can be due before run() returns; held, it cannot finish the run meanwhile.
        let release!: () => void
        attempts.held = new Promise((resolve) => (release = resolve))
        const transactionId = "retry-1"
        const finished = waitForFinish(engine, WF.retryInterval, transactionId)
        const { acknowledgement } = await engine.run(WF.retryInterval, {
          transactionId,
          throwOnError: false,
        })
        expect(acknowledgement.hasFinished).toBe(false)

        const [waiting] = await engine.listWorkflowExecutions({
          transaction_id: transactionId,
        })
        expect(waiting.state).toBe("invoking")
        release()
        attempts.held = undefined

        const event = await finished
        expect(event.state).toBe("done")
        expect(attempts.count).toBe(2)
        const [execution] = await engine.listWorkflowExecutions({
          transaction_id: transactionId,
        })
        expect(execution.state).toBe("done")
      })

      it("stores a synchronous step held after a failure (autoRetry: false) and retries it when the transaction runs again", async () => {
        manualAttempts.count = 0
        const transactionId = "manual-retry-1"
        const { acknowledgement } = await engine.run(WF.manualRetry, {
          transactionId,
          throwOnError: false,
        })
        expect(acknowledgement.hasFinished).toBe(false)
        expect(manualAttempts.count).toBe(1)

        const [held] = await engine.listWorkflowExecutions({
          transaction_id: transactionId,
        })
        expect(held.state).toBe("invoking")
        expect(
          held.execution?.steps["_root.test-held-on-failure"].invoke.status
        ).toBe("temp_failure")

        const { acknowledgement: again, result } = await engine.run(
          WF.manualRetry,
          { transactionId }
        )
        expect(again.hasFinished).toBe(true)
        expect(result).toBe(2)
        const [execution] = await engine.listWorkflowExecutions({
          transaction_id: transactionId,
        })
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
          running = engine.run(WF.stepTimeout, {
            transactionId,
            throwOnError: false,
          })
          await waitUntil(async () => (await updatesWaiting()) === 1)
          await waitUntil(() => Date.now() - startedAt > 1500)
        } finally {
          await lock.commit()
          await db.raw(
            `DROP TRIGGER test_hold_update ON workflow_execution; DROP FUNCTION test_hold_update();`
          )
        }
        const { transaction } = await running!
        expect(transaction.getFlow().state).toBe("reverted")
        const [execution] = await engine.listWorkflowExecutions({
          transaction_id: transactionId,
        })
        expect(execution.state).toBe("reverted")
        expect(
          execution.execution!.steps["_root.test-slow-async"].invoke.state
        ).toBe("timeout")
      })

      it("times out an async step that nobody completes", async () => {
        const { transaction } = await engine.run(WF.stepTimeout, {
          throwOnError: false,
        })
        const event = await waitForFinish(
          engine,
          WF.stepTimeout,
          transaction.transactionId
        )
        expect(["reverted", "failed"]).toContain(event.state)
        const [execution] = await engine.listWorkflowExecutions({
          transaction_id: transaction.transactionId,
        })
        expect(
          execution.execution!.steps["_root.test-slow-async"].invoke.state
        ).toBe("timeout")
      })

      it("times out a whole transaction and tells subscribers", async () => {
        const events: string[] = []
        await engine.subscribe({
          workflowId: WF.transactionTimeout,
          subscriber: (e: any) => events.push(e.eventType),
        })
        const { transaction } = await engine.run(WF.transactionTimeout, {
          throwOnError: false,
        })
        const event = await waitForFinish(
          engine,
          WF.transactionTimeout,
          transaction.transactionId
        )
        expect(["reverted", "failed"]).toContain(event.state)
        expect(events).toContain("onTimeout")
        const [execution] = await engine.listWorkflowExecutions({
          transaction_id: transaction.transactionId,
        })
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
        expect(claim).toEqual({
          scheduled_for: null,
          runs: null,
          next_run_at: null,
        })
        expect(ticks).toHaveLength(2)
        expect(new Date(ticks[0]).getTime()).toBeLessThan(
          new Date(ticks[1]).getTime()
        )
      })

      it("runs the next tick after the database failed to record the last one finished", async () => {
        // Schedules of an instance of the test's own, whose statements give up waiting for a row lock after 200 ms.
        const db = knex({
          client: "pg",
          connection: {
            connectionString: dbConfig.clientUrl,
            options: "-c lock_timeout=200",
          },
        })
        const instanceId = "wf_inst_schedules_test"
        const jobId = "test-finish-not-recorded"
        await db.raw(
          `INSERT INTO workflow_engine_instance (id, hostname, pid, worker_mode, lease_expires_at)
           VALUES (?, 'test', 1, 'shared', now() + interval '10 minutes')`,
          [instanceId]
        )
        let finishFailed!: () => void
        const finishFailedOnce = new Promise<void>(
          (resolve) => (finishFailed = resolve)
        )
        const logger = {
          info: () => undefined,
          error: () => undefined,
          debug: () => undefined,
          warn: (message: string) =>
            /could not mark its tick finished/.test(message) && finishFailed(),
        } as unknown as Logger
        const holder = new Client({ connectionString: dbConfig.clientUrl })
        await holder.connect()
        const ran: Date[] = []
        const schedules = new ClusterSchedules(
          db,
          logger,
          { instanceId, runsWork: true, pollIntervalMs: 100 },
          async (_, at) => {
            ran.push(at)
            if (ran.length === 1) {
              // Someone else holds the schedule's row, so the finish that follows this tick fails.
              await holder.query("BEGIN")
              await holder.query(
                `SELECT 1 FROM workflow_engine_schedule WHERE job_id = $1 FOR UPDATE`,
                [jobId]
              )
            }
            return "ok"
          }
        )
        try {
          await schedules.start()
          await schedules.schedule(jobId, { interval: 100 })
          await finishFailedOnce
          await holder.query("COMMIT")
          // The tick's mark outlived it; the instance that left it clears it at its next claim.
          await waitUntil(() => ran.length >= 2, 5000)
        } finally {
          await schedules.stop()
          await db.raw(
            `DELETE FROM workflow_engine_schedule WHERE job_id = ?`,
            [jobId]
          )
          await db.raw(`DELETE FROM workflow_engine_instance WHERE id = ?`, [
            instanceId,
          ])
          await db.destroy()
          await holder.end()
        }
      })
    })
  }),
})
