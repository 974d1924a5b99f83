import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService, Logger } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { CrashRecovery } from "../../src/modules/workflow-engine/recovery/crash-recovery"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  waitUntil,
  withEngineShutdown,
} from "./__fixtures__/engine"
import { ASYNC_STEP, asyncStep, WF } from "./__fixtures__/workflows"

jest.setTimeout(60000)

const DEAD = "wf_inst_dead_for_the_test"
const quiet = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
} as unknown as Logger

/*
 * The recovery rule on runs left by a dead instance, one case at a time: the
 * dead instance is a lease row that ran out, and its runs are stored runs
 * whose owner is set to it (and, where the case needs it, whose checkpoint
 * shows what the instance was doing).
 */
moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  // The engine's own recovery, woken by its lease renewals, would race the recoverers the tests start.
  moduleOptions: { leaseDurationMs: 600000 },
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    beforeAll(() => require("./__fixtures__/workflows"))

    const db = (): Knex => knexOf(medusaApp)
    // The module's public service runs workflows and answers steps as the orchestrator does, which it delegates to.
    const recovery = (id = "wf_inst_recovering") =>
      new CrashRecovery(db(), quiet, id, () => engine)

    async function leftByDeadInstance(
      transactionId: string,
      steps: Record<string, { state: string; status: string }> = {}
    ) {
      await db().raw(
        `INSERT INTO workflow_engine_instance (id, hostname, pid, worker_mode, lease_expires_at)
         VALUES (?, 'gone-host', 4242, 'shared', now() - interval '1 second') ON CONFLICT (id) DO NOTHING`,
        [DEAD]
      )
      let execution = `execution`
      for (const [stepId, invoke] of Object.entries(steps)) {
        execution = `jsonb_set(${execution}, '{steps,${stepId},invoke}', '${JSON.stringify(invoke)}'::jsonb)`
      }
      await db().raw(
        `UPDATE workflow_execution SET owner_instance_id = ?, execution = ${execution} WHERE transaction_id = ?`,
        [DEAD, transactionId]
      )
    }
    const rowOf = async (transactionId: string) =>
      (
        await db().raw(
          `SELECT state, owner_instance_id, context, execution FROM workflow_execution WHERE transaction_id = ?`,
          [transactionId]
        )
      ).rows[0]
    const awaitedSteps = async (
      transactionId: string
    ): Promise<string[] | null> =>
      (
        await db().raw(
          `SELECT awaited_steps FROM workflow_execution WHERE transaction_id = ?`,
          [transactionId]
        )
      ).rows[0].awaited_steps
    /** Runs until its async step awaits its answer: the handler returned, and the storage noted it. */
    /**
     * Runs until its async step awaits its answer: the handler returns at
     * once, and the run call returns only once the storage noted it (a
     * script that exits right after leaves its runs waiting).
     */
    const runUntilAwaiting = async (
      workflowId: string,
      transactionId: string
    ) => {
      await engine.run(workflowId, { transactionId, input: { value: 1 } })
      expect((await awaitedSteps(transactionId)) ?? []).toHaveLength(1)
    }
    const deadLeases = async () =>
      (
        await db().raw(
          `SELECT count(*)::int AS n FROM workflow_engine_instance WHERE id = ?`,
          [DEAD]
        )
      ).rows[0].n

    it("leaves a run waiting for an answer to whoever answers, owned by nobody, and removes the dead lease", async () => {
      await runUntilAwaiting(WF.asyncStep, "waits")
      expect(await awaitedSteps("waits")).toEqual([
        `_root.test-before-async.${ASYNC_STEP}#1`,
      ])
      await leftByDeadInstance("waits")

      expect(await recovery().recoverNow()).toBe(1)
      expect(await rowOf("waits")).toMatchObject({
        state: "invoking",
        owner_instance_id: null,
      })
      expect(await deadLeases()).toBe(0)

      await engine.setStepSuccess({
        idempotencyKey: {
          workflowId: WF.asyncStep,
          transactionId: "waits",
          stepId: ASYNC_STEP,
          action: "invoke",
        },
        stepResponse: "answered",
      })
      expect((await rowOf("waits")).state).toBe("done")
    })

    it("fails a step the checkpoint shows running, naming the dead instance and the step, and compensates", async () => {
      await engine.run(WF.asyncStep, {
        transactionId: "was-running",
        input: { value: 1 },
      })
      await leftByDeadInstance("was-running", {
        [`_root.test-before-async.${ASYNC_STEP}`]: {
          state: "invoking",
          status: "idle",
        },
      })

      await recovery().recoverNow()
      const row = await rowOf("was-running")
      expect(row.state).toBe("reverted")
      expect(row.context.errors).toEqual([
        expect.objectContaining({
          action: ASYNC_STEP,
          error: expect.objectContaining({
            name: "InstanceDiedError",
            message: expect.stringContaining(
              `${DEAD} (gone-host, pid 4242) died while step "${ASYNC_STEP}" was running`
            ),
          }),
        }),
      ])
      expect(
        row.execution.steps["_root.test-before-async"].compensate.state
      ).toBe("reverted")
    })

    it("retries a failed step that has retries left, as Medusa retries a step that threw", async () => {
      await engine.run(WF.retriedAfterDeath, { transactionId: "retried" })
      await leftByDeadInstance("retried", {
        "_root.test-wait-before-retried": { state: "done", status: "ok" },
        "_root.test-wait-before-retried.test-may-run-again": {
          state: "invoking",
          status: "idle",
        },
      })

      await recovery().recoverNow()
      const row = await rowOf("retried")
      expect(row.state).toBe("done")
      const step =
        row.execution.steps["_root.test-wait-before-retried.test-may-run-again"]
      expect([step.invoke.state, step.failures]).toEqual(["done", 1])
    })

    it("leaves waiting an async step of a run started as workflow(container).run(), not through the engine's service", async () => {
      // Most of Medusa's code runs workflows this way: the handler is noted all the same (storage/handler-notes).
      await asyncStep().run({
        input: { value: 1 },
        context: { transactionId: "run-directly" },
      })
      await waitUntil(
        async () => ((await awaitedSteps("run-directly")) ?? []).length === 1
      )
      await leftByDeadInstance("run-directly")

      expect(await recovery().recoverNow()).toBe(1)
      expect(await rowOf("run-directly")).toMatchObject({
        state: "invoking",
        owner_instance_id: null,
      })
    })

    it("fails an async step whose handler had not returned: nobody outside may have been asked to answer it", async () => {
      await runUntilAwaiting(WF.asyncStep, "never-asked")
      await leftByDeadInstance("never-asked")
      await db().raw(
        `UPDATE workflow_execution SET awaited_steps = '{}' WHERE transaction_id = 'never-asked'`
      )

      await recovery().recoverNow()
      const row = await rowOf("never-asked")
      expect(row.state).toBe("reverted")
      expect(row.context.errors).toEqual([
        expect.objectContaining({
          action: ASYNC_STEP,
          error: expect.objectContaining({
            name: "InstanceDiedError",
            message: expect.stringContaining(
              `step "${ASYNC_STEP}" was running`
            ),
          }),
        }),
      ])
    })

    it("leaves waiting the async steps of a row stored before handlers were noted (awaited_steps NULL)", async () => {
      await runUntilAwaiting(WF.asyncStep, "stored-earlier")
      await leftByDeadInstance("stored-earlier")
      await db().raw(
        `UPDATE workflow_execution SET awaited_steps = NULL WHERE transaction_id = 'stored-earlier'`
      )

      expect(await recovery().recoverNow()).toBe(1)
      expect(await rowOf("stored-earlier")).toMatchObject({
        state: "invoking",
        owner_instance_id: null,
      })
    })

    it("retries after its interval a step failed by recovery before it ever ran", async () => {
      await runUntilAwaiting(WF.retriedLaterAfterDeath, "retried-later")
      // The first row of a start cut by the kill: the step after the answered one shown as the next to run, never attempted.
      await leftByDeadInstance("retried-later", {
        "_root.test-wait-before-retried-later": { state: "done", status: "ok" },
        "_root.test-wait-before-retried-later.test-may-run-later": {
          state: "not_started",
          status: "idle",
        },
      })

      await recovery().recoverNow()
      await waitUntil(
        async () => (await rowOf("retried-later")).state === "done",
        30000
      )
      const step = (await rowOf("retried-later")).execution.steps[
        "_root.test-wait-before-retried-later.test-may-run-later"
      ]
      expect([step.invoke.state, step.failures, step.attempts]).toEqual([
        "done",
        1,
        1,
      ])
    })

    it("sets again a waiting step's timeout whose timer the dead instance had taken, and the run times out", async () => {
      await runUntilAwaiting(WF.timeoutAfterDeath, "timeout-taken")
      await leftByDeadInstance("timeout-taken")
      await db().raw(
        `DELETE FROM workflow_execution_timer WHERE transaction_id = 'timeout-taken'`
      )

      expect(await recovery().recoverNow()).toBe(1)
      await waitUntil(
        async () => (await rowOf("timeout-taken")).state === "reverted",
        30000
      )
      expect(
        (await rowOf("timeout-taken")).execution.steps[
          "_root.test-answered-by-nobody"
        ].invoke.state
      ).toBe("timeout")
    })

    it("leaves the runs of a workflow this instance does not have, and the dead lease with them", async () => {
      await engine.run(WF.asyncStep, {
        transactionId: "unknown-here",
        input: { value: 1 },
      })
      await leftByDeadInstance("unknown-here")
      await db().raw(
        `UPDATE workflow_execution SET workflow_id = 'only-in-another-app' WHERE transaction_id = 'unknown-here'`
      )

      expect(await recovery().recoverNow()).toBe(0)
      expect(await rowOf("unknown-here")).toMatchObject({
        state: "invoking",
        owner_instance_id: DEAD,
      })
      expect(await deadLeases()).toBe(1)
    })

    it("recovers each run once when several instances recover at the same moment", async () => {
      const ids = Array.from({ length: 10 }, (_, i) => `contended-${i}`)
      for (const transactionId of ids) {
        await engine.run(WF.asyncStep, { transactionId, input: { value: 1 } })
        await leftByDeadInstance(transactionId, {
          [`_root.test-before-async.${ASYNC_STEP}`]: {
            state: "invoking",
            status: "idle",
          },
        })
      }
      await Promise.all([
        recovery("wf_inst_a").recoverNow(),
        recovery("wf_inst_b").recoverNow(),
        recovery("wf_inst_c").recoverNow(),
      ])

      for (const transactionId of ids) {
        const row = await rowOf(transactionId)
        expect([transactionId, row.state, row.context.errors.length]).toEqual([
          transactionId,
          "reverted",
          1,
        ])
      }
      expect(await deadLeases()).toBe(0)
    })
  }),
})
