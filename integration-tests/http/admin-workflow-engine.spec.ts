import { medusaIntegrationTestRunner } from "@medusajs/test-utils"
import type { MedusaContainer } from "@medusajs/framework/types"
import path from "path"
import {
  HELLO_FAILING_WORKFLOW,
  HELLO_WORKFLOW,
  helloFailingWorkflow,
  helloWorkflow,
} from "./app/src/workflows/hello-workflow"
import { anyStatus, createAdminAndLogin } from "./__fixtures__/admin-login"

/*
 * The plugin's own admin routes (/admin/workflow-engine/…) of the storage
 * report, purges, erasure and retention in the app of ./app, over HTTP: with
 * a token, without one (401, for every route of the plugin), and with bad
 * input (400 naming the field); admin-execution-actions.spec holds the routes
 * that act on one execution. The runner restores the database before every
 * test.
 */

jest.setTimeout(180000)

medusaIntegrationTestRunner({
  cwd: path.join(__dirname, "app"),
  testSuite: ({ api, getContainer, dbConnection }) => {
    let admin: { headers: Record<string, string> }
    let userId: string
    let container: MedusaContainer

    beforeAll(async () => {
      container = getContainer()
      const login = await createAdminAndLogin(api, container)
      admin = { headers: login.headers }
      userId = login.userId
    })

    const withAdmin = () => ({ ...admin, ...anyStatus })

    /** A finished run written as another engine or an import would: SQL, not the module. */
    async function insertFinished(
      transactionId: string,
      columns: { retention_time: number | null; expires_at: string | null }
    ) {
      await dbConnection.raw(
        `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, retention_time, expires_at, execution)
         VALUES (?, 'imported-workflow', ?, 'run', 'done', ?, ${columns.expires_at ?? "NULL"}, '{"steps": {}}'::jsonb)`,
        [`wf_exec_${transactionId}`, transactionId, columns.retention_time]
      )
    }

    async function liveTransactionIds(): Promise<string[]> {
      const { rows } = await dbConnection.raw(
        `SELECT transaction_id FROM workflow_execution WHERE deleted_at IS NULL ORDER BY transaction_id`
      )
      return rows.map((row: { transaction_id: string }) => row.transaction_id)
    }

    describe("authentication", () => {
      it.each([
        ["get", "/admin/workflow-engine/storage"],
        ["get", "/admin/workflow-engine/purges"],
        ["post", "/admin/workflow-engine/purge"],
        ["post", "/admin/workflow-engine/erase"],
        ["get", "/admin/workflow-engine/executions/wf_exec_any/retention"],
        ["post", "/admin/workflow-engine/executions/wf_exec_any/cancel"],
        ["post", "/admin/workflow-engine/executions/wf_exec_any/steps/retry"],
        ["post", "/admin/workflow-engine/bulk"],
        ["get", "/admin/workflow-engine/bulk-actions"],
        ["post", "/admin/workflow-engine/executions/wf_exec_any/keep"],
      ])("%s %s answers 401 without a token", async (method, url) => {
        const response =
          method === "get"
            ? await api.get(url, anyStatus)
            : await api.post(url, {}, anyStatus)
        expect(response.status).toEqual(401)
      })
    })

    describe("GET /admin/workflow-engine/storage", () => {
      it("reports executions per workflow and state, sizes, expiry, what is kept forever and the retention in force", async () => {
        await helloWorkflow(container).run({
          context: { transactionId: "hello-1" },
        })
        await helloWorkflow(container).run({
          context: { transactionId: "hello-2" },
        })
        await helloFailingWorkflow(container).run({
          context: { transactionId: "failing-1" },
          throwOnError: false,
        })
        await insertFinished("expired-1", {
          retention_time: 1,
          expires_at: "now() - interval '1 hour'",
        })
        await insertFinished("expired-2", {
          retention_time: 1,
          expires_at: "now() - interval '1 minute'",
        })
        await insertFinished("forever-1", {
          retention_time: null,
          expires_at: null,
        })

        const { status, data } = await api.get(
          "/admin/workflow-engine/storage",
          withAdmin()
        )

        expect(status).toEqual(200)
        const { storage } = data
        expect(storage.groups).toEqual([
          {
            workflow_id: HELLO_FAILING_WORKFLOW,
            state: "reverted",
            executions: 1,
            estimated_bytes: expect.any(Number),
          },
          {
            workflow_id: HELLO_WORKFLOW,
            state: "done",
            executions: 2,
            estimated_bytes: expect.any(Number),
          },
          {
            workflow_id: "imported-workflow",
            state: "done",
            executions: 3,
            estimated_bytes: expect.any(Number),
          },
        ])
        expect(storage.total_executions).toEqual(6)
        expect(storage.workflows).toEqual([
          {
            workflow_id: "imported-workflow",
            executions: 3,
            estimated_bytes: expect.any(Number),
            kept_forever: 1,
          },
          {
            workflow_id: HELLO_WORKFLOW,
            executions: 2,
            estimated_bytes: expect.any(Number),
            kept_forever: 0,
          },
          {
            workflow_id: HELLO_FAILING_WORKFLOW,
            executions: 1,
            estimated_bytes: expect.any(Number),
            kept_forever: 0,
          },
        ])
        // Every group is smaller than the sample, so its estimate covers all its JSON at least.
        const hello = storage.workflows[1]
        const { rows } = await dbConnection.raw(
          `SELECT sum(pg_column_size(execution) + pg_column_size(context))::int AS json_bytes
             FROM workflow_execution WHERE workflow_id = ?`,
          [HELLO_WORKFLOW]
        )
        expect(hello.estimated_bytes).toBeGreaterThanOrEqual(rows[0].json_bytes)

        expect(storage.sizes).toEqual({
          table_bytes: expect.any(Number),
          toast_bytes: expect.any(Number),
          index_bytes: expect.any(Number),
          total_bytes: expect.any(Number),
        })
        expect(storage.sizes.table_bytes).toBeGreaterThan(0)
        expect(storage.sizes.index_bytes).toBeGreaterThan(0)
        expect(storage.sizes.total_bytes).toEqual(
          storage.sizes.table_bytes +
            storage.sizes.toast_bytes +
            storage.sizes.index_bytes
        )
        const { rows: oldest } = await dbConnection.raw(
          `SELECT min(created_at) AS at FROM workflow_execution`
        )
        expect(Date.parse(storage.oldest_execution_at)).toEqual(
          oldest[0].at.getTime()
        )
        expect(storage.expired).toEqual({ executions: 2, capped: false })
        expect(storage.kept_forever).toEqual(1)
        // Runs reported stuck, and the run events' outbox (docs/events.md): none reported, none given up.
        expect(storage.stuck).toEqual(0)
        expect(storage.events).toEqual({
          pending: expect.any(Number),
          given_up: 0,
        })
        // The test app's module options are all defaults.
        expect(storage.retention).toEqual({
          default_retention_seconds: null,
          retention_seconds_by_state: {},
          purge_interval_seconds: 900,
          purge_batch_size: 5000,
        })
        expect(storage.last_purges).toEqual([])
      })

      it("lists the latest purge passes, newest first", async () => {
        await api.post(
          "/admin/workflow-engine/purge",
          { dry_run: true },
          withAdmin()
        )
        await api.post("/admin/workflow-engine/purge", {}, withAdmin())

        const { data } = await api.get(
          "/admin/workflow-engine/storage",
          withAdmin()
        )

        expect(
          data.storage.last_purges.map((entry: any) => [
            entry.trigger,
            entry.dry_run,
            entry.actor,
          ])
        ).toEqual([
          ["admin", false, userId],
          ["admin", true, userId],
        ])
      })

      it("answers 400 naming an unknown query field", async () => {
        const response = await api.get(
          "/admin/workflow-engine/storage?verbose=1",
          withAdmin()
        )
        expect(response.status).toEqual(400)
        expect(response.data.message).toContain("verbose")
      })
    })

    describe("POST /admin/workflow-engine/purge", () => {
      it("previews the count, then purges it, recorded with the admin as actor", async () => {
        await helloWorkflow(container).run({
          context: { transactionId: "kept" },
        })
        await insertFinished("expired-1", {
          retention_time: 1,
          expires_at: "now() - interval '1 hour'",
        })
        await insertFinished("expired-2", {
          retention_time: 1,
          expires_at: "now() - interval '1 hour'",
        })

        const preview = await api.post(
          "/admin/workflow-engine/purge",
          { dry_run: true },
          withAdmin()
        )
        expect(preview.status).toEqual(200)
        expect(preview.data.purge).toEqual(
          expect.objectContaining({
            id: expect.stringMatching(/^wf_purge_/),
            dry_run: true,
            deleted: 0,
            would_delete: 2,
          })
        )
        expect(await liveTransactionIds()).toEqual([
          "expired-1",
          "expired-2",
          "kept",
        ])

        const run = await api.post(
          "/admin/workflow-engine/purge",
          {},
          withAdmin()
        )
        expect(run.status).toEqual(200)
        expect(run.data.purge).toEqual(
          expect.objectContaining({ dry_run: false, deleted: 2, batches: 1 })
        )
        expect(await liveTransactionIds()).toEqual(["kept"])

        const { rows } = await dbConnection.raw(
          `SELECT trigger, actor, dry_run, deleted FROM workflow_execution_purge ORDER BY created_at`
        )
        expect(rows).toEqual([
          { trigger: "admin", actor: userId, dry_run: true, deleted: 2 },
          { trigger: "admin", actor: userId, dry_run: false, deleted: 2 },
        ])
      })

      it("stops at max_rows", async () => {
        for (const id of ["expired-1", "expired-2", "expired-3"]) {
          await insertFinished(id, {
            retention_time: 1,
            expires_at: "now() - interval '1 hour'",
          })
        }
        const { data } = await api.post(
          "/admin/workflow-engine/purge",
          { max_rows: 2 },
          withAdmin()
        )
        expect(data.purge.deleted).toEqual(2)
        expect(await liveTransactionIds()).toHaveLength(1)
      })

      it.each([
        [{ dry_run: "yes" }, "dry_run"],
        [{ max_rows: 0 }, "max_rows"],
        [{ max_rows: 1.5 }, "max_rows"],
        [{ batch_size: 10 }, "batch_size"],
      ])("answers 400 naming the field of %j", async (body, field) => {
        await insertFinished("expired-1", {
          retention_time: 1,
          expires_at: "now() - interval '1 hour'",
        })
        const response = await api.post(
          "/admin/workflow-engine/purge",
          body,
          withAdmin()
        )
        expect(response.status).toEqual(400)
        expect(response.data.message).toContain(field)
        expect(await liveTransactionIds()).toEqual(["expired-1"])
      })
    })

    describe("POST /admin/workflow-engine/erase", () => {
      it("erases the transactions' runs whatever their retention, recorded in the audit trail", async () => {
        await helloWorkflow(container).run({
          context: { transactionId: "customer-42-order" },
        })
        await helloFailingWorkflow(container).run({
          context: { transactionId: "customer-42-order" },
          throwOnError: false,
        })
        await helloWorkflow(container).run({
          context: { transactionId: "someone-else" },
        })

        const { status, data } = await api.post(
          "/admin/workflow-engine/erase",
          { transaction_ids: ["customer-42-order"] },
          withAdmin()
        )

        expect(status).toEqual(200)
        expect(data.erase).toEqual({
          id: expect.stringMatching(/^wf_purge_/),
          deleted: 2,
          transaction_ids: ["customer-42-order"],
        })
        expect(await liveTransactionIds()).toEqual(["someone-else"])
        const { rows } = await dbConnection.raw(
          `SELECT trigger, actor, transaction_ids, deleted FROM workflow_execution_purge`
        )
        expect(rows).toEqual([
          {
            trigger: "erase",
            actor: userId,
            transaction_ids: ["customer-42-order"],
            deleted: 2,
          },
        ])
      })

      it.each([
        [{}, "transaction_ids"],
        [{ transaction_ids: [] }, "transaction_ids"],
        [{ transaction_ids: "customer-42-order" }, "transaction_ids"],
        [{ transaction_ids: ["customer-42-order", 7] }, "transaction_ids, 1"],
        [{ transaction_ids: ["customer-42-order"], actor: "someone" }, "actor"],
      ])("answers 400 naming the field of %j", async (body, field) => {
        await helloWorkflow(container).run({
          context: { transactionId: "customer-42-order" },
        })
        const response = await api.post(
          "/admin/workflow-engine/erase",
          body,
          withAdmin()
        )
        expect(response.status).toEqual(400)
        expect(response.data.message).toContain(field)
        expect(await liveTransactionIds()).toEqual(["customer-42-order"])
      })
    })

    describe("GET /admin/workflow-engine/purges", () => {
      it("pages through the audit trail newest first, with the total count", async () => {
        for (const maxRows of [1, 2, 3]) {
          await api.post(
            "/admin/workflow-engine/purge",
            { dry_run: true, max_rows: maxRows },
            withAdmin()
          )
        }
        await api.post(
          "/admin/workflow-engine/erase",
          { transaction_ids: ["nobody"] },
          withAdmin()
        )

        const first = await api.get(
          "/admin/workflow-engine/purges?limit=2",
          withAdmin()
        )
        expect(first.status).toEqual(200)
        expect(first.data).toEqual(
          expect.objectContaining({ count: 4, limit: 2, offset: 0 })
        )
        expect(first.data.purges.map((entry: any) => entry.trigger)).toEqual([
          "erase",
          "admin",
        ])
        expect(first.data.purges[0]).toEqual(
          expect.objectContaining({
            id: expect.stringMatching(/^wf_purge_/),
            actor: userId,
            dry_run: false,
            deleted: 0,
            transaction_ids: ["nobody"],
            error: null,
            started_at: expect.any(String),
            created_at: expect.any(String),
          })
        )

        const second = await api.get(
          "/admin/workflow-engine/purges?limit=2&offset=2",
          withAdmin()
        )
        expect(second.data).toEqual(
          expect.objectContaining({ count: 4, limit: 2, offset: 2 })
        )
        expect(second.data.purges).toHaveLength(2)
        const ids = [...first.data.purges, ...second.data.purges].map(
          (entry: any) => entry.id
        )
        expect(new Set(ids).size).toEqual(4)
        const created = [...first.data.purges, ...second.data.purges].map(
          (entry: any) => Date.parse(entry.created_at)
        )
        expect([...created].sort((a, b) => b - a)).toEqual(created)
      })

      it.each([
        ["limit=0", "limit"],
        ["limit=abc", "limit"],
        ["limit=1000", "limit"],
        ["offset=-1", "offset"],
        ["trigger=job", "trigger"],
      ])("answers 400 naming the field of ?%s", async (query, field) => {
        const response = await api.get(
          `/admin/workflow-engine/purges?${query}`,
          withAdmin()
        )
        expect(response.status).toEqual(400)
        expect(response.data.message).toContain(field)
      })
    })

    describe("GET /admin/workflow-engine/executions/:id/retention", () => {
      async function idOf(transactionId: string): Promise<string> {
        const { rows } = await dbConnection.raw(
          `SELECT id FROM workflow_execution WHERE transaction_id = ?`,
          [transactionId]
        )
        return rows[0].id
      }

      it("says when a finished run expires and that its workflow's retentionTime decided it", async () => {
        await helloWorkflow(container).run({
          context: { transactionId: "hello-1" },
        })
        const id = await idOf("hello-1")

        const { status, data } = await api.get(
          `/admin/workflow-engine/executions/${id}/retention`,
          withAdmin()
        )

        expect(status).toEqual(200)
        const { rows } = await dbConnection.raw(
          `SELECT expires_at FROM workflow_execution WHERE id = ?`,
          [id]
        )
        expect(data.execution_retention).toEqual({
          id,
          workflow_id: HELLO_WORKFLOW,
          transaction_id: "hello-1",
          state: "done",
          finished: true,
          expires_at: rows[0].expires_at.toISOString(),
          expired: false,
          retention_seconds: 99999,
          source: "workflow",
          kept_forever: false,
          kept: null,
          on_finish: null,
          purge_interval_seconds: 900,
        })
      })

      it("says a run without retention is kept forever, and an expired one is expired", async () => {
        await insertFinished("forever-1", {
          retention_time: null,
          expires_at: null,
        })
        await insertFinished("expired-1", {
          retention_time: 1,
          expires_at: "now() - interval '1 hour'",
        })

        const forever = await api.get(
          `/admin/workflow-engine/executions/wf_exec_forever-1/retention`,
          withAdmin()
        )
        expect(forever.data.execution_retention).toEqual(
          expect.objectContaining({
            kept_forever: true,
            expires_at: null,
            source: null,
            expired: false,
          })
        )
        const expired = await api.get(
          `/admin/workflow-engine/executions/wf_exec_expired-1/retention`,
          withAdmin()
        )
        expect(expired.data.execution_retention).toEqual(
          expect.objectContaining({
            kept_forever: false,
            expired: true,
            retention_seconds: 1,
            source: "workflow",
          })
        )
      })

      it("tells a run in flight the retention each outcome would give it", async () => {
        await dbConnection.raw(
          `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, execution)
           VALUES ('wf_exec_running', ?, 'running-1', 'run', 'invoking', '{"options": {"retentionTime": 3600}}'::jsonb)`,
          [HELLO_WORKFLOW]
        )
        const { data } = await api.get(
          `/admin/workflow-engine/executions/wf_exec_running/retention`,
          withAdmin()
        )
        // The runner waits for runs in flight to finish after each test; this one never would.
        await dbConnection.raw(
          `DELETE FROM workflow_execution WHERE id = 'wf_exec_running'`
        )
        expect(data.execution_retention).toEqual(
          expect.objectContaining({
            state: "invoking",
            finished: false,
            expires_at: null,
            source: null,
            on_finish: {
              done: { seconds: 3600, source: "workflow" },
              failed: { seconds: 3600, source: "workflow" },
              reverted: { seconds: 3600, source: "workflow" },
            },
          })
        )
      })

      it("answers 404 for an unknown id and 400 naming an unknown query field", async () => {
        const missing = await api.get(
          `/admin/workflow-engine/executions/wf_exec_missing/retention`,
          withAdmin()
        )
        expect(missing.status).toEqual(404)
        const bad = await api.get(
          `/admin/workflow-engine/executions/wf_exec_missing/retention?fields=id`,
          withAdmin()
        )
        expect(bad.status).toEqual(400)
        expect(bad.data.message).toContain("fields")
      })
    })
  },
})
