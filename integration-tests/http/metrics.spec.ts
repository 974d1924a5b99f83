import { medusaIntegrationTestRunner } from "@medusajs/test-utils"
import type { MedusaContainer } from "@medusajs/framework/types"
import path from "path"
import {
  CALL_PARTNER,
  HELLO_FAILING_WORKFLOW,
  HELLO_RETRY_WORKFLOW,
  helloFailingWorkflow,
  helloRetryWorkflow,
} from "./app/src/workflows/hello-workflow"
import { anyStatus, createAdminAndLogin } from "./__fixtures__/admin-login"
import { waitUntil } from "../modules/__fixtures__/engine"
import { registerTestTelemetry } from "../modules/__fixtures__/telemetry"

/*
 * The engine's metrics in a whole Medusa app (./app, the plugin installed by
 * package name), read through the SDK's reader after known runs. The meter
 * provider is registered before the runner boots the app, as a store's
 * instrumentation.ts registers it before Medusa loads its modules.
 */

jest.setTimeout(180000)

const { total } = registerTestTelemetry()

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

    async function executionOf(workflowId: string, transactionId: string) {
      const { rows } = await dbConnection.raw(
        `SELECT id, state FROM workflow_execution WHERE transaction_id = ? AND workflow_id = ?`,
        [transactionId, workflowId]
      )
      return rows[0]
    }

    it("counts a stored run that failed once, however it was called", async () => {
      const ended = () =>
        total("workflow_engine.runs.ended", {
          workflow_id: HELLO_FAILING_WORKFLOW,
          result: "reverted",
        })
      const before = await ended()

      // Called directly, as a store's route or subscriber calls it: the storage sees its end.
      const { transaction } = await helloFailingWorkflow(container).run({
        throwOnError: false,
        context: { transactionId: "metrics-failing-1" },
      })
      expect(transaction.getFlow().state).toBe("reverted")

      expect(await ended()).toBe(before + 1)
      expect(
        await total("workflow_engine.run.duration", {
          workflow_id: HELLO_FAILING_WORKFLOW,
          result: "reverted",
        })
      ).toBe(before + 1)
    })

    it("counts the retry of a step the admin retried, and the lateness of the timer that ran it", async () => {
      const retried = () =>
        total("workflow_engine.steps.retried", {
          workflow_id: HELLO_RETRY_WORKFLOW,
          step: CALL_PARTNER,
        })
      const retriedBefore = await retried()
      const latenessBefore = await total("workflow_engine.timer.lateness")
      await helloRetryWorkflow(container).run({
        context: { transactionId: "metrics-retry-1" },
      })
      const waiting = await executionOf(HELLO_RETRY_WORKFLOW, "metrics-retry-1")

      const { status } = await api.post(
        `/admin/workflow-engine/executions/${waiting.id}/steps/retry`,
        { step_id: CALL_PARTNER },
        { ...admin, ...anyStatus }
      )
      expect(status).toBe(200)
      await waitUntil(
        async () =>
          (await executionOf(HELLO_RETRY_WORKFLOW, "metrics-retry-1")).state ===
          "done"
      )

      expect(await retried()).toBe(retriedBefore + 1)
      expect(await total("workflow_engine.timer.lateness")).toBeGreaterThan(
        latenessBefore
      )
      expect(
        await total("workflow_engine.runs.ended", {
          workflow_id: HELLO_RETRY_WORKFLOW,
          result: "done",
        })
      ).toBeGreaterThanOrEqual(1)
    })
  },
})
