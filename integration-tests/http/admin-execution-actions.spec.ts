import { medusaIntegrationTestRunner } from "@medusajs/test-utils"
import type {
  IWorkflowEngineService,
  MedusaContainer,
} from "@medusajs/framework/types"
import { Modules, TransactionHandlerType } from "@medusajs/framework/utils"
import path from "path"
import {
  CALL_PARTNER,
  HELLO_ASYNC_WORKFLOW,
  HELLO_POLLING_WORKFLOW,
  HELLO_RETRY_WORKFLOW,
  HELLO_WORKFLOW,
  helloAsyncWorkflow,
  helloPollingWorkflow,
  helloRetryWorkflow,
  helloWorkflow,
  POLL_PARTNER,
} from "./app/src/workflows/hello-workflow"
import { isRetryable } from "../../src/api/admin/workflow-engine/step-retry"
import { anyStatus, createAdminAndLogin } from "./__fixtures__/admin-login"
import { waitUntil } from "../modules/__fixtures__/engine"

/*
 * The plugin's admin routes that act on one execution (cancel it, retry one
 * of its steps) in the app of ./app, over HTTP, with bad input (400 naming
 * the field); admin-workflow-engine.spec holds every route to its token. The
 * runner restores the database before every test.
 */

jest.setTimeout(180000)

medusaIntegrationTestRunner({
  cwd: path.join(__dirname, "app"),
  testSuite: ({ api, getContainer, dbConnection }) => {
    let admin: { headers: Record<string, string> }
    let container: MedusaContainer

    beforeAll(async () => {
      container = getContainer()
      const login = await createAdminAndLogin(api, container)
      admin = { headers: login.headers }
    })

    const withAdmin = () => ({ ...admin, ...anyStatus })

    describe("POST /admin/workflow-engine/executions/:id/cancel", () => {
      async function executionOf(transactionId: string) {
        const { rows } = await dbConnection.raw(
          `SELECT id, state FROM workflow_execution WHERE transaction_id = ? AND workflow_id = ?`,
          [transactionId, HELLO_ASYNC_WORKFLOW]
        )
        return rows[0]
      }

      it("cancels a run in flight into compensation, which ends once its waiting step answers", async () => {
        await helloAsyncWorkflow(container).run({
          context: { transactionId: "waiting-1" },
        })
        const waiting = await executionOf("waiting-1")
        expect(waiting.state).toEqual("invoking")

        const { status, data } = await api.post(
          `/admin/workflow-engine/executions/${waiting.id}/cancel`,
          {},
          withAdmin()
        )

        expect(status).toEqual(200)
        // The step that waits for an answer holds the compensation back until it gets one.
        expect(data.cancel).toEqual({
          id: waiting.id,
          workflow_id: HELLO_ASYNC_WORKFLOW,
          transaction_id: "waiting-1",
          state: "waiting_to_compensate",
        })
        expect((await executionOf("waiting-1")).state).toEqual(
          "waiting_to_compensate"
        )

        // The answer the panel's "Mark step failed" sends, through Medusa's own route.
        const answered = await api.post(
          `/admin/workflows-executions/${HELLO_ASYNC_WORKFLOW}/steps/failure`,
          { transaction_id: "waiting-1", step_id: "hello-wait-for-answer" },
          withAdmin()
        )
        expect(answered.status).toEqual(200)
        await waitUntil(
          async () => (await executionOf("waiting-1")).state === "reverted"
        )
      })

      it("refuses a finished run with 400, and answers 404 for an unknown id and 400 naming an unknown field", async () => {
        await helloWorkflow(container).run({
          context: { transactionId: "done-1" },
        })
        const { rows } = await dbConnection.raw(
          `SELECT id FROM workflow_execution WHERE transaction_id = 'done-1'`
        )

        const finished = await api.post(
          `/admin/workflow-engine/executions/${rows[0].id}/cancel`,
          {},
          withAdmin()
        )
        expect(finished.status).toEqual(400)
        expect(finished.data.message).toContain("in flight")
        const { rows: after } = await dbConnection.raw(
          `SELECT state FROM workflow_execution WHERE id = ?`,
          [rows[0].id]
        )
        expect(after[0].state).toEqual("done")

        const missing = await api.post(
          `/admin/workflow-engine/executions/wf_exec_missing/cancel`,
          {},
          withAdmin()
        )
        expect(missing.status).toEqual(404)
        const bad = await api.post(
          `/admin/workflow-engine/executions/${rows[0].id}/cancel`,
          { force: true },
          withAdmin()
        )
        expect(bad.status).toEqual(400)
        expect(bad.data.message).toContain("force")
      })
    })

    describe("POST /admin/workflow-engine/executions/:id/steps/retry", () => {
      async function executionOf(workflowId: string, transactionId: string) {
        const { rows } = await dbConnection.raw(
          `SELECT id, state, execution FROM workflow_execution WHERE transaction_id = ? AND workflow_id = ?`,
          [transactionId, workflowId]
        )
        return rows[0]
      }
      const stepOf = (execution: any, name: string) =>
        Object.values(execution.execution.steps).find(
          (step: any) => step.definition?.action === name
        ) as any

      const retry = (executionId: string, body: unknown) =>
        api.post(
          `/admin/workflow-engine/executions/${executionId}/steps/retry`,
          body,
          withAdmin()
        )

      // The runner waits for every run in flight after each test: each test answers the steps it left waiting.
      async function answer(
        workflowId: string,
        transactionId: string,
        stepId: string
      ) {
        await container
          .resolve<IWorkflowEngineService>(Modules.WORKFLOW_ENGINE)
          .setStepSuccess({
            idempotencyKey: {
              workflowId,
              transactionId,
              stepId,
              action: TransactionHandlerType.INVOKE,
            },
            stepResponse: "answered by the test",
          })
        await waitUntil(
          async () =>
            (await executionOf(workflowId, transactionId)).state === "done"
        )
      }

      it("invokes a step that waits for an answer again, and the run goes on from its answer to its end", async () => {
        await helloRetryWorkflow(container).run({
          context: { transactionId: "retry-1" },
        })
        const waiting = await executionOf(HELLO_RETRY_WORKFLOW, "retry-1")
        expect(waiting.state).toEqual("invoking")
        expect(stepOf(waiting, CALL_PARTNER)).toEqual(
          expect.objectContaining({
            attempts: 1,
            invoke: { state: "invoking", status: "waiting_response" },
          })
        )

        const { status, data } = await retry(waiting.id, {
          step_id: CALL_PARTNER,
        })

        expect(status).toEqual(200)
        // The step runs again on the engine's next timer, not inside the request.
        expect(data.retry).toEqual({
          id: waiting.id,
          workflow_id: HELLO_RETRY_WORKFLOW,
          transaction_id: "retry-1",
          step_id: CALL_PARTNER,
          state: "invoking",
        })
        await waitUntil(
          async () =>
            (await executionOf(HELLO_RETRY_WORKFLOW, "retry-1")).state ===
            "done"
        )
        const done = await executionOf(HELLO_RETRY_WORKFLOW, "retry-1")
        expect(stepOf(done, CALL_PARTNER)).toEqual(
          expect.objectContaining({
            attempts: 2,
            invoke: { state: "done", status: "ok" },
          })
        )
      })

      it("passes on Medusa's NOT_ALLOWED as a 400 for a step it cannot retry in its state, and touches nothing", async () => {
        await helloRetryWorkflow(container).run({
          context: { transactionId: "retry-2" },
        })
        const waiting = await executionOf(HELLO_RETRY_WORKFLOW, "retry-2")

        const response = await retry(waiting.id, { step_id: "hello-reserve" })

        expect(response.status).toEqual(400)
        expect(response.data).toEqual(
          expect.objectContaining({
            type: "not_allowed",
            message: "Cannot retry step when status is ok",
          })
        )
        expect(
          (await executionOf(HELLO_RETRY_WORKFLOW, "retry-2")).execution
        ).toEqual(waiting.execution)
        await answer(HELLO_RETRY_WORKFLOW, "retry-2", CALL_PARTNER)
      })

      it("refuses a step the engine invokes again at its own interval, which a retry by hand would not hasten", async () => {
        await helloPollingWorkflow(container).run({
          context: { transactionId: "polling-1" },
        })
        const polling = await executionOf(HELLO_POLLING_WORKFLOW, "polling-1")
        expect(stepOf(polling, POLL_PARTNER).invoke.status).toEqual(
          "waiting_response"
        )

        const response = await retry(polling.id, { step_id: POLL_PARTNER })

        expect(response.status).toEqual(400)
        expect(response.data.type).toEqual("not_allowed")
        expect(response.data.message).toContain("retryIntervalAwaiting")
        expect(
          (await executionOf(HELLO_POLLING_WORKFLOW, "polling-1")).execution
        ).toEqual(polling.execution)
        await answer(HELLO_POLLING_WORKFLOW, "polling-1", POLL_PARTNER)
      })

      it("offers a retry in the panel for exactly the steps the route retries", async () => {
        await helloRetryWorkflow(container).run({
          context: { transactionId: "retry-3" },
        })
        await helloPollingWorkflow(container).run({
          context: { transactionId: "polling-2" },
        })
        const runs = [
          await executionOf(HELLO_POLLING_WORKFLOW, "polling-2"),
          await executionOf(HELLO_RETRY_WORKFLOW, "retry-3"),
        ]
        const offered: string[] = []
        const accepted: string[] = []
        for (const run of runs) {
          // The waiting step of retry-3 comes last, so no accepted retry changes what is tried after it.
          const steps = Object.values(run.execution.steps).filter(
            (step: any) => step.id !== "_root"
          ) as any[]
          for (const step of steps) {
            const name = `${run.execution.modelId}:${step.definition.action}`
            if (isRetryable(step)) {
              offered.push(name)
            }
            const response = await retry(run.id, {
              step_id: step.definition.action,
            })
            // Refused or taken, never a server error.
            expect([name, [200, 400].includes(response.status)]).toEqual([
              name,
              true,
            ])
            if (response.status === 200) {
              accepted.push(name)
            }
          }
        }
        expect(offered).toEqual([`${HELLO_RETRY_WORKFLOW}:${CALL_PARTNER}`])
        expect(accepted).toEqual(offered)
        await waitUntil(
          async () =>
            (await executionOf(HELLO_RETRY_WORKFLOW, "retry-3")).state ===
            "done"
        )
        await answer(HELLO_POLLING_WORKFLOW, "polling-2", POLL_PARTNER)
      })

      it("refuses a finished run with 400, answers 404 for an unknown id, and 400 naming step_id for bad input", async () => {
        await helloWorkflow(container).run({
          context: { transactionId: "done-1" },
        })
        const done = await executionOf(HELLO_WORKFLOW, "done-1")
        const finished = await retry(done.id, { step_id: "hello-step-1" })
        expect(finished.status).toEqual(400)
        expect(finished.data.message).toContain("in flight")

        const missing = await retry("wf_exec_missing", {
          step_id: CALL_PARTNER,
        })
        expect(missing.status).toEqual(404)

        await helloRetryWorkflow(container).run({
          context: { transactionId: "retry-4" },
        })
        const waiting = await executionOf(HELLO_RETRY_WORKFLOW, "retry-4")
        for (const body of [
          {},
          { step_id: "" },
          { step_id: 7 },
          { step_id: "no-such-step" },
        ]) {
          const response = await retry(waiting.id, body)
          expect([body, response.status]).toEqual([body, 400])
          expect(response.data.message).toContain("step_id")
        }
        const unknownField = await retry(waiting.id, {
          step_id: CALL_PARTNER,
          force: true,
        })
        expect(unknownField.status).toEqual(400)
        expect(unknownField.data.message).toContain("force")
        expect(
          (await executionOf(HELLO_RETRY_WORKFLOW, "retry-4")).execution
        ).toEqual(waiting.execution)
        await answer(HELLO_RETRY_WORKFLOW, "retry-4", CALL_PARTNER)
      })
    })
  },
})
