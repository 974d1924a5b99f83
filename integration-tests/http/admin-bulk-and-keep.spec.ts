import { medusaIntegrationTestRunner } from "@medusajs/test-utils"
import type { MedusaContainer } from "@medusajs/framework/types"
import path from "path"
import {
  HELLO_ASYNC_WORKFLOW,
  HELLO_WORKFLOW,
  helloAsyncWorkflow,
  helloWorkflow,
} from "./app/src/workflows/hello-workflow"
import { anyStatus, createAdminAndLogin } from "./__fixtures__/admin-login"
import { waitUntil } from "../modules/__fixtures__/engine"

/*
 * The bulk action and keep routes in the app of ./app, over HTTP: what they
 * do, who they record, and bad input as a 400 naming the field. The runner
 * restores the database before every test.
 */

jest.setTimeout(180000)

medusaIntegrationTestRunner({
  cwd: path.join(__dirname, "app"),
  testSuite: ({ api, getContainer, dbConnection }) => {
    let admin: { headers: Record<string, string> }
    let adminId: string
    let container: MedusaContainer

    beforeAll(async () => {
      container = getContainer()
      const login = await createAdminAndLogin(api, container)
      admin = { headers: login.headers }
      const me = await api.get("/admin/users/me", admin)
      adminId = me.data.user.id
    })

    const withAdmin = () => ({ ...admin, ...anyStatus })

    // The runner waits for every run in flight before it resets the database: each one left waiting is answered.
    async function answerWaiting(transactionId: string, endState: string) {
      const answered = await api.post(
        `/admin/workflows-executions/${HELLO_ASYNC_WORKFLOW}/steps/failure`,
        { transaction_id: transactionId, step_id: "hello-wait-for-answer" },
        withAdmin()
      )
      expect(answered.status).toEqual(200)
      await waitUntil(
        async () =>
          (await executionOf(HELLO_ASYNC_WORKFLOW, transactionId)).state ===
          endState
      )
    }

    async function executionOf(workflowId: string, transactionId: string) {
      const { rows } = await dbConnection.raw(
        `SELECT id, state, expires_at FROM workflow_execution WHERE transaction_id = ? AND workflow_id = ?`,
        [transactionId, workflowId]
      )
      return rows[0]
    }

    describe("POST /admin/workflow-engine/bulk", () => {
      it("previews, then cancels the matching runs in flight, recording the admin in the audit trail", async () => {
        for (const id of ["bulk-1", "bulk-2"]) {
          await helloAsyncWorkflow(container).run({
            context: { transactionId: id },
          })
        }
        await helloWorkflow(container).run({
          context: { transactionId: "bulk-done" },
        })
        const body = {
          action: "cancel",
          filters: {
            q: "bulk-",
            created_at: { $gte: "2000-01-01T00:00:00Z" },
          },
        }

        const preview = await api.post(
          "/admin/workflow-engine/bulk",
          { ...body, dry_run: true },
          withAdmin()
        )
        expect(preview.status).toEqual(200)
        expect(preview.data.bulk).toMatchObject({
          dry_run: true,
          matched: 3,
          acted: 2,
          skipped: 1,
          skipped_by_reason: { already_finished: 1 },
        })
        expect(
          (await executionOf(HELLO_ASYNC_WORKFLOW, "bulk-1")).state
        ).toEqual("invoking")

        const { status, data } = await api.post(
          "/admin/workflow-engine/bulk",
          body,
          withAdmin()
        )
        expect(status).toEqual(200)
        expect(data.bulk).toMatchObject({
          dry_run: false,
          acted: 2,
          skipped: 1,
        })
        expect(
          data.bulk.outcomes
            .filter((o: { outcome: string }) => o.outcome === "cancelled")
            .map((o: { transaction_id: string }) => o.transaction_id)
            .sort()
        ).toEqual(["bulk-1", "bulk-2"])
        expect(
          (await executionOf(HELLO_ASYNC_WORKFLOW, "bulk-1")).state
        ).not.toEqual("invoking")

        const audit = await api.get(
          "/admin/workflow-engine/bulk-actions?limit=1",
          withAdmin()
        )
        expect(audit.data.bulk_actions[0]).toMatchObject({
          id: data.bulk.id,
          action: "cancel",
          actor: adminId,
          dry_run: false,
          acted: 2,
          skipped: 1,
        })
        expect(audit.data.count).toEqual(2)
        for (const id of ["bulk-1", "bulk-2"]) {
          await answerWaiting(id, "reverted")
        }
      })

      it.each([
        [{ action: "rerun", filters: {} }, "action"],
        [{ action: "retry", filters: { colour: "red" } }, "colour"],
        [{ action: "retry", filters: { resource_id: 5 } }, "resource_id"],
        [{ action: "retry", filters: { created_at: { $soon: "x" } } }, "$soon"],
        [{ action: "retry", filters: { state: "sleeping" } }, "state"],
        [{ action: "retry", dry_run: "yes" }, "dry_run"],
        [{ action: "retry", everything: true }, "everything"],
      ])("answers 400 naming the field for %j", async (body, field) => {
        const response = await api.post(
          "/admin/workflow-engine/bulk",
          body,
          withAdmin()
        )
        expect(response.status).toEqual(400)
        expect(response.data.message).toContain(field)
      })
    })

    describe("POST and DELETE /admin/workflow-engine/executions/:id/keep", () => {
      it("keeps a finished run with who and why, shows it in its retention and the storage card, and undoes it", async () => {
        await helloWorkflow(container).run({
          context: { transactionId: "keep-1" },
        })
        const run = await executionOf(HELLO_WORKFLOW, "keep-1")

        const kept = await api.post(
          `/admin/workflow-engine/executions/${run.id}/keep`,
          { reason: "disputed order" },
          withAdmin()
        )
        expect(kept.status).toEqual(200)
        expect(kept.data.kept).toMatchObject({
          id: run.id,
          kept_by: adminId,
          kept_reason: "disputed order",
        })
        const retention = await api.get(
          `/admin/workflow-engine/executions/${run.id}/retention`,
          withAdmin()
        )
        expect(retention.data.execution_retention.kept).toMatchObject({
          by: adminId,
          reason: "disputed order",
        })
        const storage = await api.get(
          "/admin/workflow-engine/storage",
          withAdmin()
        )
        expect(storage.data.storage.kept.executions).toEqual(1)

        const undone = await api.delete(
          `/admin/workflow-engine/executions/${run.id}/keep`,
          withAdmin()
        )
        expect(undone.status).toEqual(200)
        expect(new Date(undone.data.unkept.expires_at).getTime()).toEqual(
          new Date(run.expires_at).getTime()
        )
        expect(
          (
            await api.get(
              `/admin/workflow-engine/executions/${run.id}/retention`,
              withAdmin()
            )
          ).data.execution_retention.kept
        ).toBeNull()
      })

      it("answers 404 for an unknown id, 400 for a run in flight and for a missing reason", async () => {
        const missing = await api.post(
          `/admin/workflow-engine/executions/wf_exec_missing/keep`,
          { reason: "x" },
          withAdmin()
        )
        expect(missing.status).toEqual(404)

        await helloAsyncWorkflow(container).run({
          context: { transactionId: "keep-flight" },
        })
        const flight = await executionOf(HELLO_ASYNC_WORKFLOW, "keep-flight")
        const inFlight = await api.post(
          `/admin/workflow-engine/executions/${flight.id}/keep`,
          { reason: "x" },
          withAdmin()
        )
        expect(inFlight.status).toEqual(400)
        expect(inFlight.data.message).toContain(
          "Only a finished execution can be kept"
        )

        const noReason = await api.post(
          `/admin/workflow-engine/executions/${flight.id}/keep`,
          {},
          withAdmin()
        )
        expect(noReason.status).toEqual(400)
        expect(noReason.data.message).toContain("reason")
        await answerWaiting("keep-flight", "reverted")

        const notKept = await api.delete(
          `/admin/workflow-engine/executions/wf_exec_missing/keep`,
          withAdmin()
        )
        expect(notKept.status).toEqual(404)
      })
    })
  },
})
