import { medusaIntegrationTestRunner } from "@medusajs/test-utils"
import type {
  IWorkflowEngineService,
  MedusaContainer,
} from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import { MedusaWorkflow } from "@medusajs/framework/workflows-sdk"
import path from "path"
// The app installs the plugin by package name, so its engine is the built module.
const builtModule =
  require("medusa-workflow-engine-postgres/modules/workflow-engine").default
import {
  HELLO_FAILING_WORKFLOW,
  HELLO_FAILURE_MESSAGE,
  HELLO_WORKFLOW,
  helloFailingWorkflow,
  helloWorkflow,
} from "./app/src/workflows/hello-workflow"
import { anyStatus, createAdminAndLogin } from "./__fixtures__/admin-login"
import { waitUntil } from "../modules/__fixtures__/engine"

/*
 * Boots the Medusa app in ./app (a stock Medusa setup whose Workflow Engine is
 * this plugin's module) once for the whole file, and drives it over HTTP.
 *
 * The runner restores the database from a snapshot before every test, and
 * takes that snapshot right after the `beforeAll` below: the admin user
 * survives every test, workflow executions never leak from one test into the
 * next.
 */

jest.setTimeout(180000)

function stepIdsOf(execution: any): string[] {
  return Object.keys(execution?.steps ?? {}).filter((id) => id !== "_root")
}

medusaIntegrationTestRunner({
  cwd: path.join(__dirname, "app"),
  testSuite: ({ api, getContainer, dbConnection }) => {
    let adminHeaders: { headers: Record<string, string> }
    let container: MedusaContainer

    beforeAll(async () => {
      container = getContainer()
      const admin = await createAdminAndLogin(api, container)
      adminHeaders = { headers: admin.headers }
    })

    /** Rows of workflow_execution, read with SQL rather than through the module. */
    async function storedRows(): Promise<any[]> {
      const { rows } = await dbConnection.raw(
        `SELECT id, workflow_id, transaction_id, state
           FROM workflow_execution
          WHERE deleted_at IS NULL
          ORDER BY created_at DESC`
      )
      return rows
    }

    describe("the scheduled purge", () => {
      it("runs in a whole app on the cluster's schedule and purges expired runs, with an audit entry", async () => {
        await dbConnection.raw(
          `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, retention_time, expires_at)
           VALUES ('wf_exec_expired', 'hello-workflow', 'expired-1', 'run', 'done', 1, now() - interval '1 minute')`
        )
        // Due now, announced as another instance changing the schedule would announce it.
        await dbConnection.raw(
          `UPDATE workflow_engine_schedule SET next_run_at = now() WHERE job_id = 'workflow-engine:purge-expired-executions'`
        )
        await dbConnection.raw(
          `SELECT pg_notify('workflow_engine_schedule', '')`
        )
        const engine = container.resolve<
          IWorkflowEngineService & Record<string, any>
        >(Modules.WORKFLOW_ENGINE)
        // The pass deletes, then writes its audit entry: wait for the entry, not for the row to go.
        await waitUntil(
          async () =>
            (await engine.listWorkflowExecutionPurges({ trigger: "job" })).some(
              (entry: { deleted: number; dry_run: boolean }) =>
                entry.deleted === 1 && !entry.dry_run
            ),
          30000,
          { what: "the scheduled purge's audit entry" }
        )
        const { rows } = await dbConnection.raw(
          `SELECT id FROM workflow_execution WHERE id = 'wf_exec_expired'`
        )
        expect(rows).toEqual([])
      })
    })

    describe("the engine behind the app", () => {
      it("is this plugin's module, and it keeps runs in workflow_execution", async () => {
        const engine = container.resolve<IWorkflowEngineService>(
          Modules.WORKFLOW_ENGINE
        )
        // Medusa's in-memory engine has a class of the same name, so the name
        // alone proves nothing: it must be the class of this plugin's build.
        expect(engine).toBeInstanceOf(builtModule.service)

        // Only this plugin's migration creates these indexes.
        const { rows: indexes } = await dbConnection.raw(
          `SELECT indexname FROM pg_indexes
            WHERE tablename = 'workflow_execution'
              AND indexname IN ('IDX_workflow_execution_in_flight_unique', 'IDX_workflow_execution_created_at')
            ORDER BY indexname`
        )
        expect(indexes.map((r: any) => r.indexname)).toEqual([
          "IDX_workflow_execution_created_at",
          "IDX_workflow_execution_in_flight_unique",
        ])

        expect(await storedRows()).toEqual([])
        const { transaction } = await helloWorkflow(container).run()
        expect(await storedRows()).toEqual([
          {
            id: expect.stringMatching(/^wf_exec_/),
            workflow_id: HELLO_WORKFLOW,
            transaction_id: transaction.transactionId,
            state: "done",
          },
        ])
      })
    })

    describe("GET /admin/workflows-executions", () => {
      it("lists the stored runs newest first, with the total count", async () => {
        const engine = container.resolve<IWorkflowEngineService>(
          Modules.WORKFLOW_ENGINE
        )
        const first = await helloWorkflow(container).run()
        // Through the module's run() as well as the workflow's own runner.
        const second = await engine.run(HELLO_WORKFLOW, {
          transactionId: "second-hello-run",
        })
        const failed = await helloFailingWorkflow(container).run({
          throwOnError: false,
        })

        const newestFirst = [
          failed.transaction.transactionId,
          "second-hello-run",
          first.transaction.transactionId,
        ]
        expect(second.transaction.transactionId).toEqual("second-hello-run")
        expect((await storedRows()).map((r) => r.transaction_id)).toEqual(
          newestFirst
        )

        const { status, data } = await api.get(
          "/admin/workflows-executions?limit=20&offset=0&order=-created_at",
          adminHeaders
        )

        expect(status).toEqual(200)
        expect(data).toEqual(
          expect.objectContaining({ count: 3, offset: 0, limit: 20 })
        )
        expect(
          data.workflow_executions.map((e: any) => e.transaction_id)
        ).toEqual(newestFirst)
        expect(data.workflow_executions.map((e: any) => e.workflow_id)).toEqual(
          [HELLO_FAILING_WORKFLOW, HELLO_WORKFLOW, HELLO_WORKFLOW]
        )
        expect(data.workflow_executions.map((e: any) => e.state)).toEqual([
          "reverted",
          "done",
          "done",
        ])

        const [, secondRun] = data.workflow_executions
        expect(secondRun).toEqual(
          expect.objectContaining({
            id: expect.stringMatching(/^wf_exec_/),
            workflow_id: HELLO_WORKFLOW,
            transaction_id: "second-hello-run",
            state: "done",
            created_at: expect.any(String),
            updated_at: expect.any(String),
            execution: expect.objectContaining({
              state: "done",
              modelId: HELLO_WORKFLOW,
              transactionId: "second-hello-run",
            }),
          })
        )
        expect(stepIdsOf(secondRun.execution)).toEqual(["_root.hello-step-1"])
        expect(secondRun.execution.steps["_root.hello-step-1"].invoke).toEqual(
          expect.objectContaining({ state: "done" })
        )

        const created = data.workflow_executions.map((e: any) =>
          Date.parse(e.created_at)
        )
        expect([...created].sort((a, b) => b - a)).toEqual(created)

        // The count is the total, not the page size.
        const page = await api.get(
          "/admin/workflows-executions?limit=1&offset=1&order=-created_at",
          adminHeaders
        )
        expect(page.data).toEqual(
          expect.objectContaining({ count: 3, offset: 1, limit: 1 })
        )
        expect(
          page.data.workflow_executions.map((e: any) => e.transaction_id)
        ).toEqual(["second-hello-run"])

        // And the opposite order really is the opposite.
        const oldestFirst = await api.get(
          "/admin/workflows-executions?order=created_at",
          adminHeaders
        )
        expect(
          oldestFirst.data.workflow_executions.map((e: any) => e.transaction_id)
        ).toEqual([...newestFirst].reverse())
      })

      it("filters by q, alone and with state", async () => {
        const runHello = (transactionId: string) =>
          helloWorkflow(container).run({ context: { transactionId } })
        await runHello("order-4711-confirmation")
        await runHello("cart-0815-checkout")
        await helloFailingWorkflow(container).run({
          context: { transactionId: "order-4712-confirmation" },
          throwOnError: false,
        })
        expect((await storedRows()).map((r) => r.transaction_id)).toEqual([
          "order-4712-confirmation",
          "cart-0815-checkout",
          "order-4711-confirmation",
        ])

        const list = async (query: string) => {
          const { status, data } = await api.get(
            `/admin/workflows-executions?${query}`,
            adminHeaders
          )
          expect(status).toEqual(200)
          return {
            count: data.count,
            transactionIds: data.workflow_executions
              .map((e: any) => e.transaction_id)
              .sort(),
          }
        }

        expect(await list("q=hello")).toEqual({
          count: 3,
          transactionIds: [
            "cart-0815-checkout",
            "order-4711-confirmation",
            "order-4712-confirmation",
          ],
        })
        expect(await list("q=hello-failing")).toEqual({
          count: 1,
          transactionIds: ["order-4712-confirmation"],
        })
        // A search on the transaction id, case-insensitive.
        expect(await list("q=ORDER-47")).toEqual({
          count: 2,
          transactionIds: [
            "order-4711-confirmation",
            "order-4712-confirmation",
          ],
        })
        expect(await list("q=order-47&state=done")).toEqual({
          count: 1,
          transactionIds: ["order-4711-confirmation"],
        })
        expect(await list("q=hello&state=done")).toEqual({
          count: 2,
          transactionIds: ["cart-0815-checkout", "order-4711-confirmation"],
        })
        expect(await list("q=hello&state=reverted")).toEqual({
          count: 1,
          transactionIds: ["order-4712-confirmation"],
        })
        expect(await list("q=no-such-workflow")).toEqual({
          count: 0,
          transactionIds: [],
        })
        // `%` is a literal character in q, not a wildcard.
        expect(await list("q=%25")).toEqual({ count: 0, transactionIds: [] })
      })

      it.each([
        ["created_at[$gt]=yesterday-ish", "created_at.$gt"],
        ["created_at[$like]=2026%25", "created_at.$like"],
        ["state=exploded", "state"],
        ["state[]=done&state[]=sideways", "state[1]"],
        ["q=tx%00", "q"],
        // Query hands a key field on as a list.
        ["transaction_id=tx%00", "transaction_id[0]"],
      ])(
        "answers 400 naming the field of a filter the engine refuses: ?%s",
        async (query, field) => {
          await helloWorkflow(container).run()
          const response = await api.get(
            `/admin/workflows-executions?${query}`,
            { ...adminHeaders, ...anyStatus }
          )
          expect([response.status, response.data.type]).toEqual([
            400,
            "invalid_data",
          ])
          expect(response.data.message).toContain(`"${field}"`)
        }
      )

      it("answers 401 without a token", async () => {
        await helloWorkflow(container).run()
        const response = await api.get("/admin/workflows-executions", anyStatus)
        expect(response.status).toEqual(401)
        expect(response.data.workflow_executions).toBeUndefined()
      })
    })

    describe("GET /admin/workflows-executions/:id", () => {
      it("returns one execution in full, context included", async () => {
        const { transaction } = await helloWorkflow(container).run()
        await helloWorkflow(container).run()
        const [row] = (await storedRows()).filter(
          (r) => r.transaction_id === transaction.transactionId
        )

        const { status, data } = await api.get(
          `/admin/workflows-executions/${row.id}`,
          adminHeaders
        )

        expect(status).toEqual(200)
        const execution = data.workflow_execution
        expect(execution).toEqual(
          expect.objectContaining({
            id: row.id,
            workflow_id: HELLO_WORKFLOW,
            transaction_id: transaction.transactionId,
            state: "done",
            execution: expect.objectContaining({
              state: "done",
              hasFailedSteps: false,
            }),
            context: {
              data: expect.objectContaining({
                invoke: {
                  "hello-step-1": expect.objectContaining({
                    output: expect.objectContaining({
                      output: "Hello from step 1!",
                    }),
                  }),
                },
              }),
              errors: [],
            },
          })
        )
        expect(stepIdsOf(execution.execution)).toEqual(["_root.hello-step-1"])
      })

      it("keeps the error of a failed run in its context", async () => {
        const { transaction } = await helloFailingWorkflow(container).run({
          throwOnError: false,
        })
        const [row] = await storedRows()

        const { data } = await api.get(
          `/admin/workflows-executions/${row.id}`,
          adminHeaders
        )

        expect(data.workflow_execution).toEqual(
          expect.objectContaining({
            transaction_id: transaction.transactionId,
            workflow_id: HELLO_FAILING_WORKFLOW,
            state: "reverted",
          })
        )
        expect(data.workflow_execution.context.errors).toEqual([
          expect.objectContaining({
            action: "hello-explode",
            handlerType: "invoke",
            error: expect.objectContaining({ message: HELLO_FAILURE_MESSAGE }),
          }),
        ])
        expect(stepIdsOf(data.workflow_execution.execution)).toEqual([
          "_root.hello-reserve",
          "_root.hello-reserve.hello-explode",
        ])
      })

      it("returns no execution for an unknown id", async () => {
        await helloWorkflow(container).run()
        const response = await api.get(
          "/admin/workflows-executions/wf_exec_does_not_exist",
          { ...adminHeaders, ...anyStatus }
        )
        // Medusa's route answers 200 with an empty body when the engine finds nothing.
        expect(response.status).toEqual(200)
        expect(response.data).toEqual({})
      })

      it("answers 401 without a token", async () => {
        await helloWorkflow(container).run()
        const [row] = await storedRows()
        const response = await api.get(
          `/admin/workflows-executions/${row.id}`,
          anyStatus
        )
        expect(response.status).toEqual(401)
        expect(response.data.workflow_execution).toBeUndefined()
      })
    })

    describe("GET /admin/workflows-executions/:workflow_id/:transaction_id", () => {
      it("returns the asked transaction, not the workflow's first", async () => {
        const runHello = (transactionId: string) =>
          helloWorkflow(container).run({ context: { transactionId } })
        await runHello("first-of-the-workflow")
        await runHello("the-asked-one")
        await runHello("newest-of-the-workflow")
        // Another workflow under the asked transaction id: the workflow id must count too.
        await helloFailingWorkflow(container).run({
          context: { transactionId: "the-asked-one" },
          throwOnError: false,
        })

        for (const [workflowId, state] of [
          [HELLO_WORKFLOW, "done"],
          [HELLO_FAILING_WORKFLOW, "reverted"],
        ]) {
          const { status, data } = await api.get(
            `/admin/workflows-executions/${workflowId}/the-asked-one`,
            adminHeaders
          )
          expect(status).toEqual(200)
          expect(data.workflow_execution).toEqual(
            expect.objectContaining({
              workflow_id: workflowId,
              transaction_id: "the-asked-one",
              state,
            })
          )
        }
      })

      it("returns no execution for a transaction the workflow never ran", async () => {
        await helloWorkflow(container).run({
          context: { transactionId: "ran" },
        })
        const { status, data } = await api.get(
          `/admin/workflows-executions/${HELLO_WORKFLOW}/never-ran`,
          adminHeaders
        )
        expect(status).toEqual(200)
        expect(data.workflow_execution).toBeUndefined()
      })

      it("answers 401 without a token", async () => {
        const { transaction } = await helloWorkflow(container).run()
        const response = await api.get(
          `/admin/workflows-executions/${HELLO_WORKFLOW}/${transaction.transactionId}`,
          anyStatus
        )
        expect(response.status).toEqual(401)
      })
    })

    describe("a custom API route reading the engine (GET /workflows/:id)", () => {
      it("returns a finished run of the stored hello-workflow", async () => {
        const { transaction, result } = await helloWorkflow(container).run()
        expect(result).toEqual("Hello from step 1!")

        const { status, data } = await api.get(
          `/workflows/${transaction.transactionId}`
        )

        expect(status).toEqual(200)
        const { workflowExecution } = data
        expect(workflowExecution).toEqual(
          expect.objectContaining({
            id: expect.stringMatching(/^wf_exec_/),
            workflow_id: HELLO_WORKFLOW,
            transaction_id: transaction.transactionId,
            state: "done",
            execution: expect.objectContaining({
              state: "done",
              hasFailedSteps: false,
            }),
          })
        )
        expect(workflowExecution.context).toEqual({
          data: expect.objectContaining({ invoke: expect.any(Object) }),
          errors: [],
        })
      })

      it("returns a failed run with its error", async () => {
        const { transaction, errors } = await helloFailingWorkflow(
          container
        ).run({
          throwOnError: false,
        })
        expect(errors.map((e: any) => e.error?.message)).toEqual([
          HELLO_FAILURE_MESSAGE,
        ])

        const { status, data } = await api.get(
          `/workflows/${transaction.transactionId}`
        )

        expect(status).toEqual(200)
        const { workflowExecution } = data
        expect(workflowExecution.workflow_id).toEqual(HELLO_FAILING_WORKFLOW)
        expect(workflowExecution.transaction_id).toEqual(
          transaction.transactionId
        )
        expect(["reverted", "failed"]).toContain(workflowExecution.state)
        expect(workflowExecution.execution.state).toEqual(
          workflowExecution.state
        )
        expect(workflowExecution.context.errors).toEqual([
          expect.objectContaining({
            error: expect.objectContaining({ message: HELLO_FAILURE_MESSAGE }),
          }),
        ])
      })

      it("finds nothing for a transaction that never ran", async () => {
        await helloWorkflow(container).run()
        const response = await api.get("/workflows/never-ran", anyStatus)
        expect(response.status).toEqual(404)
      })
    })
  },
})
