import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { MedusaError, Modules } from "@medusajs/framework/utils"
import { execFile } from "child_process"
import path from "path"
import { promisify } from "util"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  rowsOf,
  waitUntil,
  withEngineShutdown,
} from "./__fixtures__/engine"
import { seedExecutions, seedExpired } from "./__fixtures__/seed-executions"
import { WF } from "./__fixtures__/workflows"
import { knex } from "@medusajs/framework/mikro-orm/knex"
import { resolveOptions } from "../../src/modules/workflow-engine/options"
import { ExecutionRetention } from "../../src/modules/workflow-engine/retention/execution-retention"
import { SCHEDULE_CHANNEL } from "../../src/modules/workflow-engine/notifications/channels"
import { PURGE_SCHEDULE_ID } from "../../src/modules/workflow-engine/retention/purge-schedule"

jest.setTimeout(120000)

type RetentionEngine = IWorkflowEngineService & {
  purgeExpiredExecutions(input?: Record<string, unknown>): Promise<any>
  eraseWorkflowExecutions(input: Record<string, unknown>): Promise<any>
  listWorkflowExecutionPurges(
    filters?: Record<string, unknown>,
    config?: Record<string, unknown>
  ): Promise<any[]>
}

const IN_FLIGHT = [
  "not_started",
  "invoking",
  "waiting_to_compensate",
  "compensating",
]

moduleIntegrationTestRunner<RetentionEngine>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  moduleOptions: {
    retentionTimeByState: { failed: 7200, reverted: 5400 },
    purgeBatchSize: 2,
    purgeIntervalSeconds: 3600,
  },
  testSuite: withEngineShutdown(({ service: engine, medusaApp, dbConfig }) => {
    const ids = async () =>
      (
        await knexOf(medusaApp).raw(
          `SELECT id FROM workflow_execution ORDER BY id`
        )
      ).rows.map((r: any) => r.id)

    describe("purgeExpiredExecutions", () => {
      beforeEach(async () => {
        await seedExecutions(knexOf(medusaApp), [
          { id: "expired-done", state: "done", expiresIn: -60 },
          { id: "expired-failed", state: "failed", expiresIn: -3600 },
          { id: "expired-reverted", state: "reverted", expiresIn: -1 },
          { id: "fresh-done", state: "done", expiresIn: 3600 },
          {
            id: "kept-forever",
            state: "done",
            expiresIn: null,
            retentionTime: null,
            updatedAgo: 86400 * 365,
          },
          // In flight, however old and whatever an expiry says: never touched.
          ...IN_FLIGHT.map((state) => ({
            id: `old-${state}`,
            state,
            expiresIn: -86400,
            updatedAgo: 86400 * 30,
          })),
        ])
      })

      it("deletes expired finished runs only, in batches, and says what it did", async () => {
        const result = await engine.purgeExpiredExecutions()
        expect(result).toEqual(
          expect.objectContaining({
            id: expect.stringMatching(/^wf_purge_/),
            dry_run: false,
            deleted: 3,
            batches: 2,
            duration_ms: expect.any(Number),
            longest_batch_ms: expect.any(Number),
            oldest_remaining: expect.any(Date),
          })
        )
        expect(await ids()).toEqual(
          [
            "fresh-done",
            "kept-forever",
            ...IN_FLIGHT.map((s) => `old-${s}`),
          ].sort()
        )
      })

      it("previews with dryRun: deletes nothing and counts what a real pass then deletes", async () => {
        const before = await ids()
        const preview = await engine.purgeExpiredExecutions({ dryRun: true })
        expect(preview).toEqual(
          expect.objectContaining({
            dry_run: true,
            deleted: 0,
            would_delete: 3,
            batches: 0,
          })
        )
        expect(await ids()).toEqual(before)

        const real = await engine.purgeExpiredExecutions()
        expect(real.deleted).toBe(preview.would_delete)
      })

      it("stops at maxRows, oldest expiry first", async () => {
        const result = await engine.purgeExpiredExecutions({
          maxRows: 1,
          batchSize: 10,
        })
        expect(result.deleted).toBe(1)
        expect(await ids()).not.toContain("expired-failed")
        expect(await ids()).toContain("expired-done")
      })

      it("records every pass in the audit trail, with who asked", async () => {
        await engine.purgeExpiredExecutions({ dryRun: true, actor: "user_123" })
        await engine.purgeExpiredExecutions({ actor: "cleanup-script" })
        const trail = await engine.listWorkflowExecutionPurges(
          {},
          { order: { created_at: "ASC" } }
        )
        expect(trail).toEqual([
          expect.objectContaining({
            trigger: "manual",
            actor: "user_123",
            dry_run: true,
            deleted: 3,
            error: null,
          }),
          expect.objectContaining({
            trigger: "manual",
            actor: "cleanup-script",
            dry_run: false,
            deleted: 3,
            batches: 2,
          }),
        ])
      })

      it("also purges finished rows Medusa's engine wrote after the migration (a rolling deploy)", async () => {
        await seedExecutions(knexOf(medusaApp), [
          {
            id: "medusa-expired",
            state: "failed",
            expiresIn: null,
            retentionTime: 60,
            updatedAgo: 86400,
          },
          {
            id: "medusa-fresh",
            state: "done",
            expiresIn: null,
            retentionTime: 30 * 86400,
            updatedAgo: 86400,
          },
        ])
        const preview = await engine.purgeExpiredExecutions({ dryRun: true })
        expect(preview.would_delete).toBe(4)
        expect((await engine.purgeExpiredExecutions()).deleted).toBe(4)

        const remaining = await ids()
        expect(remaining).not.toContain("medusa-expired")
        expect(remaining).toContain("medusa-fresh")
        const { rows } = await knexOf(medusaApp).raw(
          `SELECT extract(epoch from expires_at - updated_at)::int AS after FROM workflow_execution WHERE id = 'medusa-fresh'`
        )
        expect(rows[0].after).toBe(30 * 86400)
      })

      it("refuses bad input, naming the field, and deletes nothing", async () => {
        for (const [input, field] of [
          [{ batchSize: 0 }, "batchSize"],
          [{ batchSize: 1.5 }, "batchSize"],
          [{ maxRows: -3 }, "maxRows"],
          [{ dryRun: "yes" }, "dryRun"],
          [{ everything: true }, "everything"],
          [{ actor: 42 }, "actor"],
        ] as const) {
          const error: any = await engine
            .purgeExpiredExecutions(input as any)
            .catch((e) => e)
          expect(error).toBeInstanceOf(MedusaError)
          expect(error.type).toBe(MedusaError.Types.INVALID_DATA)
          expect(error.message).toContain(field)
        }
        expect(await ids()).toHaveLength(5 + IN_FLIGHT.length)
      })
    })

    describe("durability", () => {
      it("relaxes the commit flush for the batches only: the connection that purged still commits synchronously", async () => {
        await seedExpired(knexOf(medusaApp), 50)
        // One connection, so the purge's batches and the checks around it share a session.
        const single = knex({
          client: "pg",
          connection: dbConfig.clientUrl,
          pool: { min: 1, max: 1 },
        })
        const session = async () =>
          (
            await single.raw(
              `SELECT pg_backend_pid() AS pid, current_setting('synchronous_commit') AS commit_flush`
            )
          ).rows[0]
        try {
          // The session's own value, whatever the server's default is (the embedded test server runs with it off).
          await single.raw(`SET synchronous_commit = on`)
          const before = await session()
          expect(before.commit_flush).toBe("on")

          const retention = new ExecutionRetention(
            single,
            console as any,
            resolveOptions({ purgeBatchSize: 10 })
          )
          const result = await retention.purgeExpired({}, "manual")
          expect(result.deleted).toBe(50)
          expect(result.batches).toBeGreaterThan(1)
          expect(await session()).toEqual(before)
          const { rows: left } = await single.raw(
            `SELECT count(*)::int AS left FROM workflow_execution`
          )
          expect(left[0].left).toBe(0)
        } finally {
          await single.destroy()
        }
      })
    })

    describe("several purging processes at once", () => {
      it("delete every expired row exactly once between them", async () => {
        const db = knexOf(medusaApp)
        await seedExpired(db, 20000)
        await seedExecutions(db, [
          { id: "fresh", state: "done", expiresIn: 3600 },
        ])

        // The gate: the processes queue on this lock, and all go when it is released.
        const GATE = 7_300_001
        const gate = await db.transaction()
        await gate.raw("SELECT pg_advisory_xact_lock(?)", [GATE])

        const run = (actor: string) =>
          promisify(execFile)(
            process.execPath,
            [
              "-r",
              "ts-node/register/transpile-only",
              path.join(__dirname, "__fixtures__/purge-process.ts"),
            ],
            {
              env: {
                ...process.env,
                NODE_OPTIONS: "",
                DATABASE_URL: dbConfig.clientUrl,
                BATCH_SIZE: "100",
                GATE: String(GATE),
                ACTOR: actor,
              },
              cwd: path.join(__dirname, "../.."),
            }
          ).then(({ stdout }) => JSON.parse(stdout))
        const purging = Promise.all([run("a"), run("b"), run("c")])

        await waitUntil(async () => {
          const { rows } = await db.raw(
            `SELECT count(*)::int AS waiting FROM pg_locks WHERE locktype = 'advisory' AND objid = ? AND NOT granted`,
            [GATE]
          )
          return rows[0].waiting === 3
        })
        await gate.commit()

        const results = await purging
        expect(results.reduce((sum, r) => sum + r.deleted, 0)).toBe(20000)
        // They really worked side by side: each found rows the others had not claimed.
        expect(results.every((r) => r.deleted > 0)).toBe(true)
        expect(await ids()).toEqual(["fresh"])
      })
    })

    describe("retention when a run finishes", () => {
      it("sets the expiry from the workflow's retentionTime, by the database clock", async () => {
        const { transaction } = await engine.run(WF.storedThreeSteps, {
          input: { value: 1 },
        })
        const { rows } = await knexOf(medusaApp).raw(
          `SELECT retention_time, extract(epoch from expires_at - updated_at)::int AS expires_after FROM workflow_execution WHERE transaction_id = ?`,
          [transaction.transactionId]
        )
        expect(rows).toEqual([{ retention_time: 99999, expires_after: 99999 }])
      })

      it("leaves in-flight runs without an expiry", async () => {
        const { transaction } = await engine.run(WF.asyncStep, {
          input: { value: 1 },
        })
        const [row] = await rowsOf(knexOf(medusaApp), transaction.transactionId)
        expect(row.state).toBe("invoking")
        expect(row.expires_at).toBeNull()
      })

      it("keeps failed runs for their outcome's retention even when the workflow sets none", async () => {
        // The failing step has nothing to compensate, so the run ends "reverted".
        const failed = await engine.run(WF.failsWithoutRetention, {
          throwOnError: false,
        })
        const [row] = await rowsOf(
          knexOf(medusaApp),
          failed.transaction.transactionId
        )
        expect(row.state).toBe("reverted")
        expect(row.retention_time).toBe(5400)
        expect(row.expires_at).toEqual(expect.any(Date))

        // A done run of a workflow without retention is still removed.
        const done = await engine.run(WF.noRetention, { input: { value: 1 } })
        expect(
          await rowsOf(knexOf(medusaApp), done.transaction.transactionId)
        ).toEqual([])
      })

      it("raises a shorter workflow retention to its outcome's minimum, and keeps a longer one", async () => {
        const reverted = await engine.run(WF.compensated, {
          throwOnError: false,
        })
        const [raised] = await rowsOf(
          knexOf(medusaApp),
          reverted.transaction.transactionId
        )
        expect(raised.state).toBe("reverted")
        expect(raised.retention_time).toBe(5400) // the workflow asks for 3600

        const failed = await engine.run(WF.failedCompensation, {
          throwOnError: false,
        })
        const [floor] = await rowsOf(
          knexOf(medusaApp),
          failed.transaction.transactionId
        )
        expect(floor.state).toBe("failed")
        expect(floor.retention_time).toBe(7200)

        const done = await engine.run(WF.storedThreeSteps, {
          input: { value: 1 },
        })
        const [longer] = await rowsOf(
          knexOf(medusaApp),
          done.transaction.transactionId
        )
        expect(longer.retention_time).toBe(99999)
      })
    })

    describe("eraseWorkflowExecutions", () => {
      it("deletes every run of the given transactions now, whatever the retention, and records it", async () => {
        const db = knexOf(medusaApp)
        await engine.run(WF.storedThreeSteps, {
          input: { value: 1 },
          transactionId: "customer-42",
        })
        await engine.run(WF.storedThreeSteps, {
          input: { value: 2 },
          transactionId: "customer-42",
        })
        const other = await engine.run(WF.storedThreeSteps, {
          input: { value: 3 },
        })

        const result = await engine.eraseWorkflowExecutions({
          transaction_ids: ["customer-42"],
          actor: "dpo@shop",
        })
        expect(result).toEqual({
          id: expect.stringMatching(/^wf_purge_/),
          deleted: 2,
          transaction_ids: ["customer-42"],
        })
        expect(await rowsOf(db, "customer-42")).toEqual([])
        expect(await rowsOf(db, other.transaction.transactionId)).toHaveLength(
          1
        )

        const [entry] = await engine.listWorkflowExecutionPurges({
          trigger: "erase",
        })
        expect(entry).toEqual(
          expect.objectContaining({
            actor: "dpo@shop",
            deleted: 2,
            transaction_ids: ["customer-42"],
            dry_run: false,
          })
        )
      })

      it("refuses an empty or malformed request, naming the field", async () => {
        for (const [input, field] of [
          [{}, "transaction_ids"],
          [{ transaction_ids: [] }, "transaction_ids"],
          [{ transaction_ids: ["ok", 7] }, "transaction_ids[1]"],
        ] as const) {
          const error: any = await engine
            .eraseWorkflowExecutions(input as any)
            .catch((e) => e)
          expect(error.type).toBe(MedusaError.Types.INVALID_DATA)
          expect(error.message).toContain(field)
        }
      })
    })

    describe("the scheduled purge", () => {
      it("runs on the cluster's schedule, once per interval, and records it", async () => {
        const db = knexOf(medusaApp)
        await seedExecutions(db, [
          { id: "expired", state: "done", expiresIn: -5 },
        ])
        const schedule = async () =>
          (
            await db.raw(
              `SELECT next_run_at, executions FROM workflow_engine_schedule WHERE job_id = ?`,
              [PURGE_SCHEDULE_ID]
            )
          ).rows[0]
        const registered = await schedule()
        expect(registered.executions).toBe(0)

        // Make the pass due now, as another instance changing the schedule would, and say so.
        await db.raw(
          `UPDATE workflow_engine_schedule SET next_run_at = now() WHERE job_id = ?`,
          [PURGE_SCHEDULE_ID]
        )
        await db.raw(`SELECT pg_notify(?, '')`, [SCHEDULE_CHANNEL])
        await waitUntil(
          async () =>
            (await engine.listWorkflowExecutionPurges({ trigger: "job" }))
              .length === 1
        )

        expect(await ids()).toEqual([])
        const [entry] = await engine.listWorkflowExecutionPurges({
          trigger: "job",
        })
        expect(entry).toEqual(
          expect.objectContaining({ deleted: 1, dry_run: false })
        )
        // The next pass is an interval (3600 s) away, by the schedule the cluster shares.
        const after = await schedule()
        expect(after.executions).toBe(1)
        const { rows } = await db.raw(
          `SELECT extract(epoch FROM ?::timestamptz - now()) AS seconds`,
          [after.next_run_at]
        )
        expect(Number(rows[0].seconds)).toBeGreaterThan(3500)
      })
    })
  }),
})
