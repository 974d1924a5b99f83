import { medusaIntegrationTestRunner } from "@medusajs/test-utils"
import type { MedusaContainer } from "@medusajs/framework/types"
import path from "path"
import {
  helloFailingWorkflow,
  helloWorkflow,
} from "./app/src/workflows/hello-workflow"
import { anyStatus, createAdminAndLogin } from "./__fixtures__/admin-login"

/*
 * GET /admin/workflow-engine/executions in the app of ./app: the runs a
 * commerce object's page lists (resource_id), with the list's other filters,
 * newest first, and a 400 naming the field for bad input. The runs are
 * started through Medusa's workflow API with an input that names the ids,
 * as Medusa's own workflows name an order or a customer.
 */

jest.setTimeout(180000)

medusaIntegrationTestRunner({
  cwd: path.join(__dirname, "app"),
  testSuite: ({ api, getContainer, dbConnection }) => {
    let admin: { headers: Record<string, string> }
    let container: MedusaContainer

    beforeAll(async () => {
      container = getContainer()
      admin = { headers: (await createAdminAndLogin(api, container)).headers }
    })

    const withAdmin = () => ({ ...admin, ...anyStatus })
    const list = (query: string) =>
      api.get(`/admin/workflow-engine/executions?${query}`, withAdmin())
    const transactions = (response: { data: any }) =>
      response.data.workflow_executions.map(
        (execution: any) => execution.transaction_id
      )

    async function seedRuns() {
      await helloWorkflow(container).run({
        input: { order_id: "order_HTTP1", customer_id: "cus_HTTP" },
        context: { transactionId: "tx-order-1-first" },
      })
      await helloFailingWorkflow(container).run({
        input: { order_id: "order_HTTP1" },
        context: { transactionId: "tx-order-1-failed" },
        throwOnError: false,
      })
      await helloWorkflow(container).run({
        input: { data: { order_id: "order_HTTP2" }, customer_id: "cus_HTTP" },
        context: { transactionId: "tx-order-2" },
      })
      await helloWorkflow(container).run({
        input: { value: 1 },
        context: { transactionId: "tx-no-resource" },
      })
    }

    it("answers 401 without a token", async () => {
      const response = await api.get(
        "/admin/workflow-engine/executions?resource_id=order_HTTP1",
        anyStatus
      )
      expect(response.status).toEqual(401)
    })

    it("lists an order's runs newest first, with their state and nothing heavy", async () => {
      await seedRuns()
      const response = await list("resource_id=order_HTTP1")
      expect(response.status).toEqual(200)
      expect(transactions(response)).toEqual([
        "tx-order-1-failed",
        "tx-order-1-first",
      ])
      expect(response.data.count).toEqual(2)
      expect(response.data.workflow_executions[0]).toEqual({
        id: expect.stringMatching(/^wf_exec_/),
        workflow_id: "hello-failing-workflow",
        transaction_id: "tx-order-1-failed",
        run_id: expect.any(String),
        state: "reverted",
        created_at: expect.any(String),
        updated_at: expect.any(String),
        stuck: false,
      })
    })

    it("lists the runs the engine reported stuck with ?stuck=true, each marked so", async () => {
      await seedRuns()
      // As the stuck scan leaves a run it reported (events/sql/mark-stuck-runs.ts).
      await dbConnection.raw(
        `UPDATE workflow_execution SET stuck_at = now() WHERE transaction_id = 'tx-order-2'`
      )
      const stuck = await list("stuck=true")
      expect(transactions(stuck)).toEqual(["tx-order-2"])
      expect(stuck.data.workflow_executions[0].stuck).toBe(true)
      expect(
        transactions(await list("stuck=false&resource_id=cus_HTTP"))
      ).toEqual(["tx-order-1-first"])
    })

    it("takes a list of ids, one level down in the input, and the list's other filters", async () => {
      await seedRuns()
      expect(
        transactions(
          await list("resource_id[]=order_HTTP2&resource_id[]=cus_HTTP")
        ).sort()
      ).toEqual(["tx-order-1-first", "tx-order-2"])
      expect(
        transactions(await list("resource_id=cus_HTTP&q=order-2"))
      ).toEqual(["tx-order-2"])
      expect(
        transactions(
          await list("resource_id=order_HTTP1&state=reverted&state=failed")
        )
      ).toEqual(["tx-order-1-failed"])
      expect(
        transactions(
          await list(
            "resource_id=order_HTTP1&workflow_id=hello-workflow&order=created_at"
          )
        )
      ).toEqual(["tx-order-1-first"])
      const paged = await list("resource_id=order_HTTP1&limit=1&offset=1")
      expect([transactions(paged), paged.data.count]).toEqual([
        ["tx-order-1-first"],
        2,
      ])
      expect((await list("resource_id=order_NONE")).data).toEqual({
        workflow_executions: [],
        count: 0,
        limit: 20,
        offset: 0,
      })
    })

    it.each([
      ["resource_id[a]=order_1", "resource_id"],
      ["state=exploded", "state"],
      ["limit=0", "limit"],
      ["limit=1000", "limit"],
      ["order=colour", "order"],
      ["created_at[$gte]=yesterday-ish", "created_at"],
      ["colour=red", "colour"],
      ["stuck=yes", "stuck"],
    ])("answers 400 naming the field of ?%s", async (query, field) => {
      const response = await list(query)
      expect(response.status).toEqual(400)
      expect(response.data.message).toContain(field)
    })
  },
})
