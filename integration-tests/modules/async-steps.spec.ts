import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import {
  MIGRATIONS_PATH,
  MODULE_PATH,
  waitForFinish,
  withEngineShutdown,
  TEST_DATABASE,
} from "./__fixtures__/engine"
import {
  ASYNC_STEP,
  asyncStepKey,
  compensations,
  WF,
} from "./__fixtures__/workflows"

/*
 * Async steps answered from outside the run (setStepSuccess, setStepFailure,
 * an async sub-workflow), and cancels of runs done or waiting.
 */

jest.setTimeout(60000)

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine }) => {
    describe("async steps", () => {
      it("waits in invoking, then finishes when setStepSuccess is called", async () => {
        const { transaction, acknowledgement } = await engine.run(
          WF.asyncStep,
          { input: { value: 21 } }
        )
        expect(acknowledgement.hasFinished).toBe(false)
        const transactionId = transaction.transactionId

        let [execution] = await engine.listWorkflowExecutions({
          transaction_id: transactionId,
        })
        expect(execution.state).toBe("invoking")
        expect(
          execution.execution!.steps[`_root.test-before-async.${ASYNC_STEP}`]
            .invoke.status
        ).toBe("waiting_response")

        const running: any = await engine.getRunningTransaction(
          WF.asyncStep,
          transactionId
        )
        expect(running.getFlow().state).toBe("invoking")

        const finished = waitForFinish(engine, WF.asyncStep, transactionId)
        await engine.setStepSuccess({
          idempotencyKey: asyncStepKey(transactionId),
          stepResponse: { ok: true },
        })
        expect((await finished).state).toBe("done")

        ;[execution] = await engine.listWorkflowExecutions({
          transaction_id: transactionId,
        })
        expect(execution.state).toBe("done")
        expect(
          execution.context!.data.invoke["test-after-async"].output.output
        ).toBe(42)
      })

      it("accepts the idempotency key as a string", async () => {
        const { transaction } = await engine.run(WF.asyncStep, {
          input: { value: 1 },
        })
        const key = `${WF.asyncStep}:${transaction.transactionId}:${ASYNC_STEP}:invoke`
        await engine.setStepSuccess({ idempotencyKey: key, stepResponse: {} })
        const [execution] = await engine.listWorkflowExecutions({
          transaction_id: transaction.transactionId,
        })
        expect(execution.state).toBe("done")
      })

      it("compensates when setStepFailure is called", async () => {
        const { transaction } = await engine.run(WF.asyncStep, {
          input: { value: 1 },
        })
        await engine.setStepFailure({
          idempotencyKey: asyncStepKey(transaction.transactionId),
          stepResponse: new Error("rejected by the outside world"),
          options: { throwOnError: false },
        })
        const [execution] = await engine.listWorkflowExecutions({
          transaction_id: transaction.transactionId,
        })
        expect(execution.state).toBe("reverted")
        expect(execution.context!.errors[0].error.message).toBe(
          "rejected by the outside world"
        )
      })

      it("fails permanently with forcePermanentFailure", async () => {
        const { transaction } = await engine.run(WF.asyncStep, {
          input: { value: 1 },
        })
        await engine.setStepFailure({
          idempotencyKey: asyncStepKey(transaction.transactionId),
          stepResponse: new Error("no retry for you"),
          options: { throwOnError: false, forcePermanentFailure: true },
        })
        const [execution] = await engine.listWorkflowExecutions({
          transaction_id: transaction.transactionId,
        })
        expect(
          execution.execution!.steps[`_root.test-before-async.${ASYNC_STEP}`]
            .invoke.status
        ).toBe("permanent_failure")
        expect(["reverted", "failed"]).toContain(execution.state)
      })

      it("completes the parent step when an async sub-workflow finishes", async () => {
        // The child starts in the background, as async steps do.
        const childWaiting = new Promise<void>((resolve) => {
          void engine.subscribe({
            workflowId: WF.child,
            subscriber: (event: any) =>
              event.eventType === "onStepAwaiting" && resolve(),
          })
        })
        const { transaction } = await engine.run(WF.parent, { input: {} })
        const parentId = transaction.transactionId
        const [parentBefore] = await engine.listWorkflowExecutions({
          transaction_id: parentId,
        })
        expect(parentBefore.state).toBe("invoking")

        await childWaiting
        const [childRun] = await engine.listWorkflowExecutions({
          workflow_id: WF.child,
        })
        expect(childRun.state).toBe("invoking")
        expect(childRun.execution!.metadata.parentStepIdempotencyKey).toContain(
          parentId
        )

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

    describe("cancel", () => {
      it("reverts a finished stored run", async () => {
        compensations.length = 0
        const { transaction } = await engine.run(WF.storedThreeSteps, {
          input: { value: 1 },
          transactionId: "to-cancel",
        })
        const { acknowledgement } = await engine.cancel(WF.storedThreeSteps, {
          transactionId: transaction.transactionId,
        })
        expect(acknowledgement).toEqual(
          expect.objectContaining({
            exists: true,
            hasFinished: true,
            hasFailed: false,
          })
        )
        const [execution] = await engine.listWorkflowExecutions({
          transaction_id: "to-cancel",
        })
        expect(execution.state).toBe("reverted")
        expect(execution.execution!.cancelledAt).toEqual(expect.any(Number))
      })

      it("marks a run waiting on an async step for compensation, as Medusa's engines do", async () => {
        const { transaction } = await engine.run(WF.asyncStep, {
          input: { value: 1 },
        })
        await engine.cancel(WF.asyncStep, {
          transactionId: transaction.transactionId,
        })
        const [execution] = await engine.listWorkflowExecutions({
          transaction_id: transaction.transactionId,
        })
        expect(execution.state).toBe("waiting_to_compensate")
        expect(execution.execution!.cancelledAt).toEqual(expect.any(Number))
      })

      it("reports an unknown transaction", async () => {
        const { acknowledgement } = await engine.cancel(WF.storedThreeSteps, {
          transactionId: "never-ran",
          throwOnError: false,
        })
        expect(acknowledgement.exists).toBe(false)
        await expect(
          engine.cancel(WF.storedThreeSteps, { transactionId: "never-ran" })
        ).rejects.toThrow(/never-ran/)
      })
    })
  }),
})
