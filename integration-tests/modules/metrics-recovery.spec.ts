import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  waitUntil,
  withEngineShutdown,
} from "./__fixtures__/engine"
import { registerTestTelemetry } from "./__fixtures__/telemetry"
import { WF } from "./__fixtures__/workflows"

jest.setTimeout(120000)

// Registered before the module loads, as a store's instrumentation.ts is.
const { spans, total } = registerTestTelemetry()

const DEAD = "wf_inst_dead_for_the_metrics"

/*
 * The engine's own recovery, woken by its lease renewals (every second with a
 * lease of 3 s), takes over a run whose owner's lease ran out: the takeover
 * is counted and has its span.
 */
moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  moduleOptions: { leaseDurationMs: 3000 },
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    it("counts a run taken over from a dead instance, by workflow and action, in a span", async () => {
      const takeovers = () =>
        total("workflow_engine.recovery.takeovers", {
          workflow_id: WF.asyncStep,
          action: "disown",
        })
      const before = await takeovers()
      await engine.run(WF.asyncStep, {
        input: { value: 1 },
        transactionId: "metrics-orphan",
      })
      const db = knexOf(medusaApp)
      await db.raw(
        `INSERT INTO workflow_engine_instance (id, hostname, pid, worker_mode, lease_expires_at)
         VALUES (?, 'gone-host', 4242, 'shared', now() - interval '1 second')`,
        [DEAD]
      )
      await db.raw(
        `UPDATE workflow_execution SET owner_instance_id = ? WHERE transaction_id = 'metrics-orphan'`,
        [DEAD]
      )

      await waitUntil(async () => (await takeovers()) > before, 20000, {
        what: "the takeover counted",
      })
      expect(await takeovers()).toBe(before + 1)
      const span = spans
        .getFinishedSpans()
        .find((span) => span.name === "workflow_engine.recovery.takeover")
      expect(span?.attributes).toMatchObject({
        workflow_id: WF.asyncStep,
        "workflow_engine.recovery.action": "disown",
      })
    })
  }),
})
