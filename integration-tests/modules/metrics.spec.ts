import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import { SpanStatusCode, trace } from "@opentelemetry/api"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  waitForFinish,
  waitUntil,
  withEngineShutdown,
} from "./__fixtures__/engine"
import { seedExpired } from "./__fixtures__/seed-executions"
import { registerTestTelemetry } from "./__fixtures__/telemetry"
import { attempts, WF } from "./__fixtures__/workflows"
import { upsertTimer } from "../../src/modules/workflow-engine/timers/sql/upsert-timer"

jest.setTimeout(120000)

// Registered before the module loads, as a store's instrumentation.ts is.
const { spans, points, total } = registerTestTelemetry()
const timerFireSpans = () =>
  spans
    .getFinishedSpans()
    .filter((span) => span.name === "workflow_engine.timer.fire")

type MetricsEngine = IWorkflowEngineService & {
  purgeExpiredExecutions(
    input?: Record<string, unknown>
  ): Promise<{ deleted: number }>
}

moduleIntegrationTestRunner<MetricsEngine>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    it("counts a failed run once, under its workflow and result, with its duration", async () => {
      const failedBefore = await total("workflow_engine.runs.ended", {
        workflow_id: WF.failedCompensation,
        result: "failed",
      })
      const { transaction } = await engine.run(WF.failedCompensation, {
        throwOnError: false,
      })
      expect(transaction.getFlow().state).toBe("failed")

      expect(
        await total("workflow_engine.runs.ended", {
          workflow_id: WF.failedCompensation,
          result: "failed",
        })
      ).toBe(failedBefore + 1)
      expect(
        await total("workflow_engine.run.duration", {
          workflow_id: WF.failedCompensation,
          result: "failed",
        })
      ).toBe(failedBefore + 1)
      expect(
        await total("workflow_engine.steps.failed", {
          workflow_id: WF.failedCompensation,
          step: "test-failing-too",
        })
      ).toBeGreaterThanOrEqual(1)
      const ended = await points("workflow_engine.runs.ended")
      expect(
        ended.every((point) => !("transaction_id" in point.attributes))
      ).toBe(true)
    })

    it("counts plain runs through the engine and a reverted run as reverted", async () => {
      const before = await total("workflow_engine.runs.ended", {
        workflow_id: WF.notStored,
        result: "done",
      })
      await engine.run(WF.notStored, { input: { value: 1 } })
      const revertedBefore = await total("workflow_engine.runs.ended", {
        workflow_id: WF.compensated,
        result: "reverted",
      })
      await engine.run(WF.compensated, { throwOnError: false })

      expect(
        await total("workflow_engine.runs.ended", {
          workflow_id: WF.notStored,
          result: "done",
        })
      ).toBe(before + 1)
      expect(
        await total("workflow_engine.runs.ended", {
          workflow_id: WF.compensated,
          result: "reverted",
        })
      ).toBe(revertedBefore + 1)
    })

    it("counts a step's retries and records the lateness of the timer that fired it", async () => {
      attempts.count = 0
      const retriedBefore = await total("workflow_engine.steps.retried", {
        workflow_id: WF.retryInterval,
        step: "test-flaky",
      })
      const latenessBefore = await total("workflow_engine.timer.lateness", {
        kind: "retry",
      })
      const transactionId = `metrics-retry-${Date.now()}`
      const finished = waitForFinish(engine, WF.retryInterval, transactionId)
      await engine.run(WF.retryInterval, {
        transactionId,
        throwOnError: false,
      })
      expect((await finished).state).toBe("done")

      // One failed attempt, one retry that succeeded.
      expect(attempts.count).toBe(2)
      expect(
        await total("workflow_engine.steps.retried", {
          workflow_id: WF.retryInterval,
          step: "test-flaky",
        })
      ).toBe(retriedBefore + 1)
      await waitUntil(
        async () =>
          (await total("workflow_engine.timer.lateness", { kind: "retry" })) >
          latenessBefore,
        10000,
        { what: "the retry timer's lateness recorded" }
      )
      const lateness = (await points("workflow_engine.timer.lateness")).find(
        (point) => point.attributes.kind === "retry"
      )!.value as { min?: number; max?: number }
      expect(lateness.min).toBeGreaterThanOrEqual(0)
      expect(
        await total("workflow_engine.timers.fired", {
          kind: "retry",
          result: "ok",
        })
      ).toBeGreaterThan(0)
    })

    it("links a retry timer's span to the trace the run started in", async () => {
      attempts.count = 0
      spans.reset()
      const transactionId = `metrics-trace-${Date.now()}`
      const finished = waitForFinish(engine, WF.retryInterval, transactionId)
      // As a store's request would: the run starts inside an active span.
      const requestTrace = await trace
        .getTracer("a-store-route")
        .startActiveSpan("POST /store/something", async (span) => {
          await engine.run(WF.retryInterval, {
            transactionId,
            throwOnError: false,
          })
          span.end()
          return span.spanContext().traceId
        })
      expect((await finished).state).toBe("done")

      await waitUntil(() => timerFireSpans().length > 0, 10000, {
        what: "the retry timer's span ended",
      })
      const fired = timerFireSpans()
      expect(fired).toHaveLength(1)
      // Its own trace, linked once to the request's.
      expect(fired[0].spanContext().traceId).not.toBe(requestTrace)
      expect(fired[0].links.map((link) => link.context.traceId)).toEqual([
        requestTrace,
      ])
    })

    it("counts the rows a purge deleted and how long it took", async () => {
      await seedExpired(knexOf(medusaApp), 7)
      const rowsBefore = await total("workflow_engine.purge.rows", {
        trigger: "manual",
      })
      const result = await engine.purgeExpiredExecutions()
      expect(result.deleted).toBe(7)

      expect(
        await total("workflow_engine.purge.rows", { trigger: "manual" })
      ).toBe(rowsBefore + 7)
      expect(
        await total("workflow_engine.purge.duration", {
          trigger: "manual",
          result: "ok",
        })
      ).toBeGreaterThan(0)
      const names = spans.getFinishedSpans().map((span) => span.name)
      expect(names).toContain("workflow_engine.purge")
      expect(names).toContain("workflow_engine.purge.batch")
    })

    it("marks the span of a timer whose run cannot continue as an error, and counts it", async () => {
      spans.reset()
      const failedBefore = await total("workflow_engine.timers.fired", {
        kind: "continue",
        result: "error",
      })
      // A timer of a workflow this app does not have: firing it fails.
      await upsertTimer(
        knexOf(medusaApp),
        {
          key: `metrics-unknown-${Date.now()}`,
          kind: "continue",
          workflow_id: "test-no-such-workflow",
          transaction_id: "metrics-unknown",
          step_id: null,
          attempt: null,
          metadata: {},
        },
        0,
        null
      )

      await waitUntil(() => timerFireSpans().length > 0, 10000, {
        what: "the timer's span ended",
      })
      const [fired] = timerFireSpans()
      expect(fired.status.code).toBe(SpanStatusCode.ERROR)
      expect(fired.attributes.workflow_id).toBe("test-no-such-workflow")
      expect(
        await total("workflow_engine.timers.fired", {
          kind: "continue",
          result: "error",
        })
      ).toBeGreaterThan(failedBefore)
    })

    it("reports the runs in flight from the counters, and the LISTEN connection", async () => {
      const inFlight = async () => total("workflow_engine.runs.in_flight")
      const before = await inFlight()
      const transactionId = `metrics-waiting-${Date.now()}`
      await engine.run(WF.asyncStep, { input: { value: 1 }, transactionId })

      expect(await inFlight()).toBe(before + 1)
      expect(await total("workflow_engine.runs.stuck")).toBe(0)
      // As the stuck scan marks a run that has not moved (events/stuck-scan).
      await knexOf(medusaApp).raw(
        `UPDATE workflow_execution SET stuck_at = now() WHERE transaction_id = ?`,
        [transactionId]
      )
      expect(await total("workflow_engine.runs.stuck")).toBe(1)
      await waitUntil(
        async () => (await total("workflow_engine.listener.connected")) === 1,
        10000,
        { what: "the LISTEN connection reported up" }
      )
    })
  }),
})
