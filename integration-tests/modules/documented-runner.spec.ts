import { moduleIntegrationTestRunner } from "@medusajs/test-utils"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import {
  MODULE_PATH,
  TEST_DATABASE,
  waitForFinish,
  waitUntil,
} from "./__fixtures__/engine"
import {
  asyncStepKey,
  attempts,
  compensations,
  defineScheduled,
  ticks,
  WF,
} from "./__fixtures__/workflows"

/*
 * What a store developer does to test their workflows with this engine
 * installed: Medusa's module test runner as its docs show it, with the module
 * and nothing else. No migrations (the runner builds the schema from the
 * models), no shutdown hooks (the runner calls none), a fresh schema and a
 * fresh engine for every test. The behaviours are those Medusa's own engine
 * suite checks: stored runs found by transaction id, async steps answered,
 * retries after their interval, timeouts, subscribers, schedules.
 */

jest.setTimeout(60000)

moduleIntegrationTestRunner<IWorkflowEngineService>({
  // Medusa names the database after the module; TEST_DATABASE keeps two checkouts on one server apart.
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  testSuite: ({ service: engine, medusaApp }) => {
    it("stores a run, found by its transaction id through the module and through Query", async () => {
      const { transaction, result } = await engine.run(WF.storedThreeSteps, {
        input: { value: 5 },
      })
      expect(result).toEqual({ "test-step-one": 5 })

      const executions = await engine.listWorkflowExecutions({
        transaction_id: transaction.transactionId,
      })
      expect(
        executions.map(({ workflow_id, state, retention_time }: any) => ({
          workflow_id,
          state,
          retention_time,
        }))
      ).toEqual([
        {
          workflow_id: WF.storedThreeSteps,
          state: "done",
          retention_time: 99999,
        },
      ])
      const [execution] = executions
      const { data } = await medusaApp.query.graph({
        entity: "workflow_execution",
        fields: ["id", "workflow_id", "state"],
        filters: { transaction_id: transaction.transactionId },
      })
      expect(data).toEqual([
        { id: execution.id, workflow_id: WF.storedThreeSteps, state: "done" },
      ])
    })

    it("counts list totals from the rows, the counters' triggers being the migrations' alone", async () => {
      for (const value of [1, 2, 3]) {
        await engine.run(WF.storedThreeSteps, { input: { value } })
      }
      await engine.run(WF.asyncStep, { input: { value: 1 } })
      const [page, total] = await engine.listAndCountWorkflowExecutions(
        {},
        { take: 2 }
      )
      expect([page.length, total]).toEqual([2, 4])
      const [, done] = await engine.listAndCountWorkflowExecutions({
        workflow_id: WF.storedThreeSteps,
        state: "done",
      })
      expect(done).toBe(3)
      const [, searched] = await engine.listAndCountWorkflowExecutions({
        q: "async",
      } as any)
      expect(searched).toBe(1)
    })

    it("waits on an async step until setStepSuccess answers it, then tells the subscriber it finished", async () => {
      const { transaction, acknowledgement } = await engine.run(WF.asyncStep, {
        input: { value: 21 },
      })
      expect(acknowledgement.hasFinished).toBe(false)
      const transactionId = transaction.transactionId
      const [waiting] = await engine.listWorkflowExecutions({
        transaction_id: transactionId,
      })
      expect(waiting.state).toBe("invoking")

      const finished = waitForFinish(engine, WF.asyncStep, transactionId)
      await engine.setStepSuccess({
        idempotencyKey: asyncStepKey(transactionId),
        stepResponse: { ok: true },
      })
      expect((await finished).state).toBe("done")
      const [execution] = await engine.listWorkflowExecutions({
        transaction_id: transactionId,
      })
      expect(
        execution.context!.data.invoke["test-after-async"].output.output
      ).toBe(42)
    })

    it("compensates when setStepFailure answers the async step", async () => {
      const { transaction } = await engine.run(WF.asyncStep, {
        input: { value: 1 },
      })
      const finished = waitForFinish(
        engine,
        WF.asyncStep,
        transaction.transactionId
      )
      await engine.setStepFailure({
        idempotencyKey: asyncStepKey(transaction.transactionId),
        stepResponse: new Error("refused by the outside world"),
        options: { throwOnError: false },
      })
      expect((await finished).state).toBe("reverted")
      const [execution] = await engine.listWorkflowExecutions({
        transaction_id: transaction.transactionId,
      })
      expect(execution.context!.errors[0].error.message).toBe(
        "refused by the outside world"
      )
    })

    it("runs a failed step again once its retry interval has passed", async () => {
      attempts.count = 0
      const transactionId = "retried-after-interval"
      const finished = waitForFinish(engine, WF.retryInterval, transactionId)
      const { acknowledgement } = await engine.run(WF.retryInterval, {
        transactionId,
        throwOnError: false,
      })
      expect(acknowledgement.hasFinished).toBe(false)
      expect(attempts.count).toBe(1)

      expect((await finished).state).toBe("done")
      expect(attempts.count).toBe(2)
    })

    it("times out an async step nobody answers, and reverts the run", async () => {
      const transactionId = "timed-out-step"
      const finished = waitForFinish(engine, WF.stepTimeout, transactionId)
      await engine.run(WF.stepTimeout, { transactionId, throwOnError: false })
      expect((await finished).state).toBe("reverted")
      const stored = await engine.retrieveWorkflowExecution({
        workflow_id: WF.stepTimeout,
        transaction_id: transactionId,
      } as any)
      expect(stored.state).toBe("reverted")
      expect(
        stored.execution!.steps["_root.test-slow-async"].invoke.state
      ).toBe("timeout")
    })

    it("tells a workflow's subscriber each step of a run, through its end", async () => {
      compensations.length = 0
      const events: string[] = []
      const transactionId = "heard-step-by-step"
      const finished = waitForFinish(engine, WF.compensated, transactionId)
      await engine.subscribe({
        workflowId: WF.compensated,
        subscriber: (event: any) =>
          void events.push(
            `${event.eventType}${event.step ? `:${event.step.definition.action}` : ""}`
          ),
      })
      await engine.run(WF.compensated, { transactionId, throwOnError: false })
      expect((await finished).state).toBe("reverted")
      expect(compensations).toEqual(["undo-me"])
      expect(events).toEqual(
        expect.arrayContaining([
          "onBegin",
          "onStepBegin:test-reversible",
          "onStepSuccess:test-reversible",
          "onStepFailure:test-failing",
          "onCompensateStepSuccess:test-reversible",
          "onFinish",
        ])
      )
      expect(events.indexOf("onBegin")).toBe(0)
      expect(events[events.length - 1]).toBe("onFinish")
    })

    it("runs a scheduled workflow on its interval, as often as asked", async () => {
      ticks.length = 0
      defineScheduled(100, 2)
      await waitUntil(() => ticks.length >= 2)
      expect(new Date(ticks[0]).getTime()).toBeLessThan(
        new Date(ticks[1]).getTime()
      )
    })
  },
})
