import { moduleIntegrationTestRunner } from "@medusajs/test-utils"
import { IWorkflowEngineService, WorkflowExecutionDTO } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import fs from "fs"
import { MODULE_PATH } from "./__fixtures__/engine"
import { WF } from "./__fixtures__/workflows"
import {
  dropDatabase,
  duplicateIndexes,
  ensureDatabase,
  forgetMigration,
  MEDUSA_FIRST_MIGRATION,
  migrate,
  MIGRATION_DIRS,
  OUR_MIGRATION,
  resetSchema,
  snapshotRows,
  tableShape,
  TableShape,
  withClient,
} from "./__fixtures__/migrations/database"
import { insertMedusaRows, MEDUSA_WORKFLOW, MedusaRow, medusaRows } from "./__fixtures__/migrations/medusa-rows"

/*
 * Our migration against tables that Medusa's own engines created, on a real
 * Postgres. Every test starts from an empty `public` schema of its own
 * database, runs Medusa's real migrations from node_modules with MikroORM's
 * migrator (as `medusa db:migrate` does), writes Medusa-shaped rows, then runs
 * our migration on top and reads the result through our module.
 */

jest.setTimeout(60000)

const DB = "medusa-wep-migration-compat"

const OUR_INDEXES = ["IDX_workflow_execution_created_at", "IDX_workflow_execution_in_flight_unique"]
const IN_FLIGHT_WARNING =
  "WARNING: workflow_execution holds several in-flight runs of one transaction; IDX_workflow_execution_in_flight_unique was not created"

/** Migration names of a directory, as the migrator records them. */
function migrationNames(directory: string): string[] {
  return fs
    .readdirSync(directory)
    .filter((file) => /^Migration\d+\.js$/.test(file))
    .map((file) => file.replace(/\.js$/, ""))
    .sort()
}

const shapeOf = () => withClient(DB, tableShape)
const rowsNow = () => withClient(DB, snapshotRows)

/** What the module returns for a stored row. */
function asRead(row: MedusaRow) {
  return expect.objectContaining({
    id: row.id,
    workflow_id: row.workflow_id,
    transaction_id: row.transaction_id,
    run_id: row.run_id,
    state: row.state,
    execution: row.execution,
    context: row.context,
    retention_time: row.retention_time,
    created_at: expect.any(Date),
    updated_at: expect.any(Date),
    deleted_at: null,
  })
}

function expectOurIndexes(shape: TableShape) {
  expect(shape.indexes["IDX_workflow_execution_created_at"]).toMatch(
    /ON public\.workflow_execution USING btree \(created_at DESC\) WHERE \(deleted_at IS NULL\)/
  )
  const inFlight = shape.indexes["IDX_workflow_execution_in_flight_unique"]
  expect(inFlight).toMatch(/^CREATE UNIQUE INDEX/)
  expect(inFlight).toMatch(/USING btree \(workflow_id, transaction_id\)/)
  for (const state of ["not_started", "invoking", "waiting_to_compensate", "compensating"]) {
    expect(inFlight).toContain(`'${state}'`)
  }
  for (const state of ["done", "failed", "reverted"]) {
    expect(inFlight).not.toContain(`'${state}'`)
  }
}

beforeAll(async () => {
  await ensureDatabase(DB)
})

afterAll(async () => {
  await dropDatabase(DB)
})

moduleIntegrationTestRunner<IWorkflowEngineService>({
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  dbName: DB,
  // No models for the runner: it must neither migrate nor refresh the schema;
  // each test builds the table itself, the way a store got it.
  moduleModels: [],
  testSuite: ({ service: engine }) => {
    beforeEach(async () => {
      await resetSchema(DB)
    })

    async function expectModuleReads(rows: MedusaRow[]) {
      const newestFirst = [...rows].sort((a, b) => b.created_at.localeCompare(a.created_at))

      const listed = await engine.listWorkflowExecutions({}, { order: { created_at: "DESC" } })
      expect(listed).toEqual(newestFirst.map(asRead))

      const [page, count] = await engine.listAndCountWorkflowExecutions({}, { take: 2, skip: 1, order: { created_at: "DESC" } })
      expect(count).toBe(rows.length)
      expect(page).toEqual(newestFirst.slice(1, 3).map(asRead))

      const payments = rows.filter((r) => r.workflow_id === MEDUSA_WORKFLOW.payment)
      const [, paymentCount] = await engine.listAndCountWorkflowExecutions({ workflow_id: MEDUSA_WORKFLOW.payment })
      expect(paymentCount).toBe(payments.length)

      const inFlight = await engine.listWorkflowExecutions({ state: "invoking" })
      expect(inFlight).toEqual(rows.filter((r) => r.state === "invoking").map(asRead))

      const searched = await engine.listWorkflowExecutions({ q: "refund" } as any)
      expect(searched.map((e) => e.transaction_id)).toEqual(["pay_01KAWREFUND"])

      for (const row of rows) {
        expect(await engine.retrieveWorkflowExecution(row.id)).toEqual(asRead(row))
      }

      // By transaction: the newest run of it.
      const [newestOrder] = newestFirst.filter((r) => r.workflow_id === MEDUSA_WORKFLOW.order)
      expect(
        await engine.retrieveWorkflowExecution({
          workflow_id: newestOrder.workflow_id,
          transaction_id: newestOrder.transaction_id,
        } as any)
      ).toEqual(asRead(newestOrder))
    }

    /** A stored run through our engine lands in the same table, next to Medusa's rows. */
    async function expectNewRunStored(existing: number) {
      const { transaction, result } = await engine.run(WF.storedThreeSteps, { input: { value: 3 } })
      expect(result).toEqual({ "test-step-one": 3 })

      const [stored, ...others] = await engine.listWorkflowExecutions({ transaction_id: transaction.transactionId })
      expect(others).toEqual([])
      expect(stored).toEqual(
        expect.objectContaining({
          id: expect.stringMatching(/^wf_exec_/),
          workflow_id: WF.storedThreeSteps,
          state: "done",
          retention_time: 99999,
        })
      )
      expect((stored as WorkflowExecutionDTO).execution!.runId).toBe((stored as any).run_id)
      expect(await engine.retrieveWorkflowExecution(stored.id)).toEqual(expect.objectContaining({ id: stored.id }))

      const [, count] = await engine.listAndCountWorkflowExecutions({})
      expect(count).toBe(existing + 1)
    }

    for (const kind of ["inmemory", "redis"] as const) {
      describe(`on the table of @medusajs/workflow-engine-${kind} (all of its migrations)`, () => {
        async function prepare() {
          const medusa = await migrate(DB, MIGRATION_DIRS[kind])
          expect(medusa.executed).toEqual(migrationNames(MIGRATION_DIRS[kind]))
          const rows = medusaRows()
          await withClient(DB, (client) => insertMedusaRows(client, rows))
          return rows
        }

        it("applies cleanly, leaves the rows and Medusa's schema as they were and adds only its two indexes", async () => {
          await prepare()
          const before = await shapeOf()
          const rowsBefore = await rowsNow()
          expect(rowsBefore).toHaveLength(5)
          expect(before.primaryKey).toEqual({
            name: "workflow_execution_pkey",
            columns: ["workflow_id", "transaction_id", "run_id"],
          })

          const ours = await migrate(DB, MIGRATION_DIRS.ours)
          expect(ours).toEqual({ executed: [OUR_MIGRATION], warnings: [] })

          expect(await rowsNow()).toEqual(rowsBefore)

          const after = await shapeOf()
          expect(after.columns).toEqual(before.columns)
          expect(after.primaryKey).toEqual(before.primaryKey)
          // Every index Medusa made is still there, unchanged; only ours are new.
          for (const [name, definition] of Object.entries(before.indexes)) {
            expect(after.indexes[name]).toBe(definition)
          }
          const added = Object.keys(after.indexes).filter((name) => !(name in before.indexes))
          expect(added.sort()).toEqual(OUR_INDEXES)
          expectOurIndexes(after)
          expect(duplicateIndexes(after.indexes)).toEqual([])
        })

        it("lets the module read Medusa's runs and store new ones in the same table", async () => {
          const rows = await prepare()
          await migrate(DB, MIGRATION_DIRS.ours)

          await expectModuleReads(rows)
          await expectNewRunStored(rows.length)
          expect(await startupWarnings()).toEqual([])
        })

        it("makes the database refuse a second in-flight run of a transaction Medusa left in flight", async () => {
          const rows = await prepare()
          await migrate(DB, MIGRATION_DIRS.ours)
          const waiting = rows.find((r) => r.state === "invoking")!

          await withClient(DB, async (client) => {
            await expect(
              client.query(
                `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state)
                 VALUES ('wf_exec_second', $1, $2, 'another-run', 'invoking')`,
                [waiting.workflow_id, waiting.transaction_id]
              )
            ).rejects.toMatchObject({ code: "23505", constraint: "IDX_workflow_execution_in_flight_unique" })

            // A finished run of the same transaction is still allowed.
            await client.query(
              `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state)
               VALUES ('wf_exec_finished', $1, $2, 'finished-run', 'done')`,
              [waiting.workflow_id, waiting.transaction_id]
            )
          })
        })
      })
    }

    describe("on a table as Medusa's first migration left it (no run_id, no retention_time)", () => {
      // A primary key of (workflow_id, transaction_id) allowed one run per transaction.
      const legacyRows = () => medusaRows().filter((r) => r.id !== "wf_exec_01KAWA0000000000000000000A")

      async function prepare() {
        const medusa = await migrate(DB, MIGRATION_DIRS.inmemory, { to: MEDUSA_FIRST_MIGRATION })
        expect(medusa.executed).toEqual([MEDUSA_FIRST_MIGRATION])
        const rows = legacyRows()
        await withClient(DB, (client) => insertMedusaRows(client, rows, { legacy: true }))
        return rows
      }

      it("adds run_id, retention_time and the three-column primary key, keeping every row", async () => {
        await prepare()
        const before = await shapeOf()
        expect(Object.keys(before.columns)).not.toContain("run_id")
        expect(Object.keys(before.columns)).not.toContain("retention_time")
        expect(before.primaryKey).toEqual({
          name: "PK_workflow_execution_workflow_id_transaction_id",
          columns: ["workflow_id", "transaction_id"],
        })
        const rowsBefore = await rowsNow()
        expect(rowsBefore).toHaveLength(4)

        const ours = await migrate(DB, MIGRATION_DIRS.ours)
        expect(ours).toEqual({ executed: [OUR_MIGRATION], warnings: [] })

        const after = await shapeOf()
        expect(after.columns.run_id).toEqual(expect.objectContaining({ type: "text", nullable: false }))
        expect(after.columns.retention_time).toEqual(expect.objectContaining({ type: "integer", nullable: true }))
        for (const [name, column] of Object.entries(before.columns)) {
          expect(after.columns[name]).toEqual(column)
        }
        expect(after.primaryKey).toEqual({
          name: "workflow_execution_pkey",
          columns: ["workflow_id", "transaction_id", "run_id"],
        })
        expect(Object.keys(after.indexes)).not.toContain("PK_workflow_execution_workflow_id_transaction_id")
        for (const name of Object.keys(before.indexes).filter((n) => n !== "PK_workflow_execution_workflow_id_transaction_id")) {
          expect(after.indexes[name]).toBe(before.indexes[name])
        }
        expectOurIndexes(after)
        expect(duplicateIndexes(after.indexes)).toEqual([])

        // Every column the rows had is untouched; each row is one run of its own.
        const rowsAfter = await rowsNow()
        expect(rowsAfter.map(({ run_id, retention_time, ...rest }) => rest)).toEqual(rowsBefore)
        const runIds = rowsAfter.map((r) => `${r.workflow_id}|${r.transaction_id}|${r.run_id}`)
        expect(new Set(runIds).size).toBe(rowsAfter.length)
        expect(rowsAfter.every((r) => typeof r.run_id === "string" && r.run_id.length > 0)).toBe(true)
      })

      it("lets the module read the old rows and store new runs", async () => {
        const rows = await prepare()
        await migrate(DB, MIGRATION_DIRS.ours)
        const stored = await rowsNow()
        const runIdOf = new Map(stored.map((r) => [r.id as string, r.run_id as string]))

        for (const row of rows) {
          const read = await engine.retrieveWorkflowExecution(row.id)
          expect(read).toEqual(
            expect.objectContaining({
              id: row.id,
              workflow_id: row.workflow_id,
              transaction_id: row.transaction_id,
              run_id: runIdOf.get(row.id),
              state: row.state,
              execution: expect.objectContaining({ modelId: row.workflow_id, state: row.state, steps: row.execution.steps }),
              context: row.context,
              created_at: expect.any(Date),
            })
          )
        }
        const [listed, count] = await engine.listAndCountWorkflowExecutions({}, { order: { created_at: "ASC" } })
        expect(count).toBe(rows.length)
        expect(listed.map((e) => e.id)).toEqual(rows.map((r) => r.id))
        expect(
          await engine.retrieveWorkflowExecution({ workflow_id: MEDUSA_WORKFLOW.fulfillment, transaction_id: "ful_01KAWSHIPMENT" } as any)
        ).toEqual(expect.objectContaining({ id: "wf_exec_01KAWA0000000000000000000E", state: "invoking" }))

        await expectNewRunStored(rows.length)
      })
    })

    describe("on a table holding two in-flight runs of one transaction", () => {
      async function prepare() {
        await migrate(DB, MIGRATION_DIRS.inmemory)
        const rows = medusaRows()
        const waiting = rows.find((r) => r.state === "invoking")!
        const twin: MedusaRow = {
          ...waiting,
          id: "wf_exec_01KAWA0000000000000000000F",
          run_id: "01KAWA0000RUN0000000000006",
          execution: { ...waiting.execution, runId: "01KAWA0000RUN0000000000006" },
          created_at: "2025-11-24T16:45:00.100Z",
          updated_at: "2025-11-24T16:45:00.400Z",
        }
        const all = [...rows, twin]
        await withClient(DB, (client) => insertMedusaRows(client, all))
        return { all, waiting, twin }
      }

      it("still applies, warns and skips only the in-flight guard, leaving the rows alone", async () => {
        const { all, waiting, twin } = await prepare()
        const before = await shapeOf()
        const rowsBefore = await rowsNow()
        expect(rowsBefore).toHaveLength(all.length)

        const ours = await migrate(DB, MIGRATION_DIRS.ours)
        expect(ours.executed).toEqual([OUR_MIGRATION])
        expect(ours.warnings).toEqual([IN_FLIGHT_WARNING])

        expect(await rowsNow()).toEqual(rowsBefore)
        const after = await shapeOf()
        expect(Object.keys(after.indexes)).not.toContain("IDX_workflow_execution_in_flight_unique")
        expect(Object.keys(after.indexes)).toContain("IDX_workflow_execution_created_at")
        expect(Object.keys(after.indexes).filter((n) => !(n in before.indexes))).toEqual([
          "IDX_workflow_execution_created_at",
        ])
        expect(after.columns).toEqual(before.columns)
        expect(after.primaryKey).toEqual(before.primaryKey)

        // The migration is recorded as done, and both runs read back.
        await withClient(DB, async (client) => {
          const { rows } = await client.query(`SELECT name FROM mikro_orm_migrations WHERE name = $1`, [OUR_MIGRATION])
          expect(rows).toHaveLength(1)
        })
        const runs = await engine.listWorkflowExecutions(
          { transaction_id: waiting.transaction_id },
          { order: { created_at: "ASC" } }
        )
        expect(runs).toEqual([asRead(waiting), asRead(twin)])
        expect(await engine.retrieveWorkflowExecution(twin.id)).toEqual(asRead(twin))

        // And the application says so when it starts, instead of trusting a guard that is not there.
        expect(await startupWarnings()).toEqual([expect.stringContaining("IDX_workflow_execution_in_flight_unique")])
      })
    })

    async function startupWarnings(): Promise<string[]> {
      const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined)
      try {
        await (engine as any).__hooks.onApplicationStart()
        return warn.mock.calls.map((call) => String(call[0]))
      } finally {
        warn.mockRestore()
      }
    }

    describe("upgrades Medusa itself made along the way", () => {
      // Redis engine 2.5 to 2.7: its 2025-01-20 migration added a unique index
      // on (workflow_id, transaction_id); Medusa's own 2025-05-05 migration
      // drops it when it adds run_id, and so does ours.
      const REDIS_BEFORE_RUN_ID = "Migration20250128174354"

      it("lets a finished transaction run again on a table the redis engine left before run_id existed", async () => {
        const medusa = await migrate(DB, MIGRATION_DIRS.redis, { to: REDIS_BEFORE_RUN_ID })
        expect(medusa.executed).toContain("Migration20250120111059")
        await migrate(DB, MIGRATION_DIRS.ours)

        await engine.run(WF.storedThreeSteps, { input: { value: 1 }, transactionId: "redis-2-5-again" })
        await engine.run(WF.storedThreeSteps, { input: { value: 2 }, transactionId: "redis-2-5-again" })

        const runs = await engine.listWorkflowExecutions({ transaction_id: "redis-2-5-again" })
        expect(runs).toHaveLength(2)
        expect(Object.keys((await shapeOf()).indexes)).not.toContain(
          "IDX_workflow_execution_workflow_id_transaction_id_unique"
        )
      })

      // Medusa's own upgrade (its 2025-01-28 migration) fills retention_time
      // from execution.options.retentionTime; without it, finished old runs
      // would never expire (retention_time IS NULL).
      it("fills retention_time of old rows from their workflow options, as Medusa's upgrade does", async () => {
        await migrate(DB, MIGRATION_DIRS.inmemory, { to: MEDUSA_FIRST_MIGRATION })
        const rows = medusaRows().filter((r) => r.id !== "wf_exec_01KAWA0000000000000000000A")
        await withClient(DB, (client) => insertMedusaRows(client, rows, { legacy: true }))
        await migrate(DB, MIGRATION_DIRS.ours)

        const stored = await rowsNow()
        expect(stored.map((r) => [r.id, r.retention_time])).toEqual(
          rows.map((r) => [r.id, r.execution.options.retentionTime ?? null])
        )
      })
    })

    describe("run again, and reverted", () => {
      it("changes nothing when it runs a second time on a table Medusa created", async () => {
        await migrate(DB, MIGRATION_DIRS.inmemory)
        await withClient(DB, (client) => insertMedusaRows(client, medusaRows()))
        await migrate(DB, MIGRATION_DIRS.ours)
        const shape = await shapeOf()
        const rows = await rowsNow()

        await forgetMigration(DB, OUR_MIGRATION)
        expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({ executed: [OUR_MIGRATION], warnings: [] })

        expect(await shapeOf()).toEqual(shape)
        expect(await rowsNow()).toEqual(rows)
      })

      it("creates the table on an empty database, and changes nothing when it runs a second time", async () => {
        expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({ executed: [OUR_MIGRATION], warnings: [] })
        const shape = await shapeOf()
        expect(Object.keys(shape.columns)).toEqual([
          "id", "workflow_id", "transaction_id", "run_id", "execution", "context",
          "state", "retention_time", "created_at", "updated_at", "deleted_at",
        ])
        expect(shape.primaryKey).toEqual({
          name: "workflow_execution_pkey",
          columns: ["workflow_id", "transaction_id", "run_id"],
        })
        expectOurIndexes(shape)
        expect(duplicateIndexes(shape.indexes)).toEqual([])

        await expectNewRunStored(0)
        const rows = await rowsNow()

        await forgetMigration(DB, OUR_MIGRATION)
        expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({ executed: [OUR_MIGRATION], warnings: [] })
        expect(await shapeOf()).toEqual(shape)
        expect(await rowsNow()).toEqual(rows)

        // Medusa's engines still apply on top of ours: the store can switch back.
        expect((await migrate(DB, MIGRATION_DIRS.inmemory)).executed).toEqual(migrationNames(MIGRATION_DIRS.inmemory))
        expect(await rowsNow()).toEqual(rows)
      })

      it("down() removes its two indexes and nothing else", async () => {
        await migrate(DB, MIGRATION_DIRS.inmemory)
        const rows = medusaRows()
        await withClient(DB, (client) => insertMedusaRows(client, rows))
        const medusaShape = await shapeOf()
        await migrate(DB, MIGRATION_DIRS.ours)
        const rowsBefore = await rowsNow()

        const reverted = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
        expect(reverted.executed).toEqual([OUR_MIGRATION])

        const after = await shapeOf()
        expect(after).toEqual(medusaShape)
        for (const name of OUR_INDEXES) {
          expect(Object.keys(after.indexes)).not.toContain(name)
        }
        expect(await rowsNow()).toEqual(rowsBefore)
        await withClient(DB, async (client) => {
          const { rows: records } = await client.query(`SELECT name FROM mikro_orm_migrations ORDER BY name`)
          expect(records.map((r) => r.name)).toEqual(migrationNames(MIGRATION_DIRS.inmemory))
        })

        // The module still reads the history after the revert.
        await expectModuleReads(rows)
      })
    })
  },
})
