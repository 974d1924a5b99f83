import { REDUNDANT_INDEXES } from "../../src/modules/workflow-engine/migrations/Migration20261202090000"
import { WF } from "./__fixtures__/workflows"
import {
  duplicateIndexes,
  MEDUSA_FIRST_MIGRATION,
  migrate,
  MIGRATION_DIRS,
  OUR_MIGRATIONS,
  withClient,
} from "./__fixtures__/migrations/database"
import {
  asRead,
  countsNow,
  DB,
  expectCounters,
  expectExpiryBackfilled,
  expectExpiryColumn,
  expectOurIndexes,
  expectRetentionTables,
  IN_FLIGHT_WARNING,
  liveCountsOf,
  ourIndexes,
  recordedMigrations,
  rowsNow,
  shapeOf,
  withoutExpiry,
  withoutExpiryColumn,
} from "./__fixtures__/migrations/expectations"
import {
  insertMedusaRows,
  MEDUSA_WORKFLOW,
  MedusaRow,
  medusaRows,
} from "./__fixtures__/migrations/medusa-rows"
import { migrationSuite } from "./__fixtures__/migrations/migration-suite"

/*
 * Our migrations on tables an older Medusa left (see migration-suite): its
 * first migration's table, two runs of one transaction in flight, and the
 * upgrades Medusa itself made along the way.
 */

jest.setTimeout(60000)

migrationSuite(({ engine, expectNewRunStored, startupWarnings }) => {
  describe("on a table as Medusa's first migration left it (no run_id, no retention_time)", () => {
    // A primary key of (workflow_id, transaction_id) allowed one run per transaction.
    const legacyRows = () =>
      medusaRows().filter((r) => r.id !== "wf_exec_01KAWA0000000000000000000A")

    async function prepare() {
      const medusa = await migrate(DB, MIGRATION_DIRS.inmemory, {
        to: MEDUSA_FIRST_MIGRATION,
      })
      expect(medusa.executed).toEqual([MEDUSA_FIRST_MIGRATION])
      const rows = legacyRows()
      await withClient(DB, (client) =>
        insertMedusaRows(client, rows, { legacy: true })
      )
      return rows
    }

    it("adds run_id, retention_time, expires_at and the three-column primary key, keeping every row", async () => {
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
      expect(ours).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })

      const after = await shapeOf()
      expectExpiryColumn(after)
      expect(after.columns.run_id).toEqual(
        expect.objectContaining({ type: "text", nullable: false })
      )
      expect(after.columns.retention_time).toEqual(
        expect.objectContaining({ type: "integer", nullable: true })
      )
      for (const [name, column] of Object.entries(before.columns)) {
        expect(after.columns[name]).toEqual(column)
      }
      expect(after.primaryKey).toEqual({
        name: "workflow_execution_pkey",
        columns: ["workflow_id", "transaction_id", "run_id"],
      })
      expect(Object.keys(after.indexes)).not.toContain(
        "PK_workflow_execution_workflow_id_transaction_id"
      )
      for (const name of Object.keys(before.indexes).filter(
        (n) => n !== "PK_workflow_execution_workflow_id_transaction_id"
      )) {
        expect(after.indexes[name]).toBe(
          REDUNDANT_INDEXES.includes(name) ? undefined : before.indexes[name]
        )
      }
      expectOurIndexes(after)
      expect(duplicateIndexes(after.indexes)).toEqual([])

      await expectRetentionTables()
      await expectCounters()
      // The old rows are counted by workflow and state like any others.
      expect((await countsNow()).counted).toEqual(liveCountsOf(legacyRows()))

      // Every column the rows had is untouched; each row is one run of its own.
      const rowsAfter = await rowsNow()
      expect(
        withoutExpiry(rowsAfter).map(
          ({ run_id, retention_time, ...rest }) => rest
        )
      ).toEqual(rowsBefore)
      // The retention filled from the workflow options gives the finished runs their expiry.
      expectExpiryBackfilled(rowsAfter)
      expect(rowsAfter.filter((r) => r.expires_at !== null)).toHaveLength(3)
      const runIds = rowsAfter.map(
        (r) => `${r.workflow_id}|${r.transaction_id}|${r.run_id}`
      )
      expect(new Set(runIds).size).toBe(rowsAfter.length)
      expect(
        rowsAfter.every(
          (r) => typeof r.run_id === "string" && r.run_id.length > 0
        )
      ).toBe(true)
    })

    it("lets the module read the old rows and store new runs", async () => {
      const rows = await prepare()
      await migrate(DB, MIGRATION_DIRS.ours)
      const stored = await rowsNow()
      const runIdOf = new Map(
        stored.map((r) => [r.id as string, r.run_id as string])
      )

      for (const row of rows) {
        const read = await engine.retrieveWorkflowExecution(row.id)
        expect(read).toEqual(
          expect.objectContaining({
            id: row.id,
            workflow_id: row.workflow_id,
            transaction_id: row.transaction_id,
            run_id: runIdOf.get(row.id),
            state: row.state,
            execution: expect.objectContaining({
              modelId: row.workflow_id,
              state: row.state,
              steps: row.execution.steps,
            }),
            context: row.context,
            created_at: expect.any(Date),
          })
        )
      }
      const [listed, count] = await engine.listAndCountWorkflowExecutions(
        {},
        { order: { created_at: "ASC" } }
      )
      expect(count).toBe(rows.length)
      expect(listed.map((e) => e.id)).toEqual(rows.map((r) => r.id))
      expect(
        await engine.retrieveWorkflowExecution({
          workflow_id: MEDUSA_WORKFLOW.fulfillment,
          transaction_id: "ful_01KAWSHIPMENT",
        } as any)
      ).toEqual(
        expect.objectContaining({
          id: "wf_exec_01KAWA0000000000000000000E",
          state: "invoking",
        })
      )

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
        execution: {
          ...waiting.execution,
          runId: "01KAWA0000RUN0000000000006",
        },
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
      expect(ours.executed).toEqual(OUR_MIGRATIONS)
      expect(ours.warnings).toEqual([IN_FLIGHT_WARNING])

      const rowsAfter = await rowsNow()
      expect(withoutExpiry(rowsAfter)).toEqual(rowsBefore)
      expectExpiryBackfilled(rowsAfter)
      const after = await shapeOf()
      expect(Object.keys(after.indexes)).not.toContain(
        "IDX_workflow_execution_in_flight_unique"
      )
      expect(Object.keys(after.indexes)).toContain(
        "IDX_workflow_execution_created_at"
      )
      expect(
        Object.keys(after.indexes)
          .filter((n) => !(n in before.indexes))
          .sort()
      ).toEqual(
        ourIndexes().filter(
          (name) => name !== "IDX_workflow_execution_in_flight_unique"
        )
      )
      expect(withoutExpiryColumn(after.columns)).toEqual(before.columns)
      expectExpiryColumn(after)
      expect(after.primaryKey).toEqual(before.primaryKey)
      // The skipped guard holds neither of the later migrations back; both runs in flight are counted.
      await expectRetentionTables()
      await expectCounters()
      expect((await countsNow()).counted).toEqual(liveCountsOf(all))

      // All four migrations are recorded as done, and both runs read back.
      expect(
        (await recordedMigrations()).filter((name) =>
          OUR_MIGRATIONS.includes(name)
        )
      ).toEqual(OUR_MIGRATIONS)
      const runs = await engine.listWorkflowExecutions(
        { transaction_id: waiting.transaction_id },
        { order: { created_at: "ASC" } }
      )
      expect(runs).toEqual([asRead(waiting), asRead(twin)])
      expect(await engine.retrieveWorkflowExecution(twin.id)).toEqual(
        asRead(twin)
      )

      // And the application says so when it starts, instead of trusting a guard that is not there.
      expect(await startupWarnings()).toEqual([
        expect.stringContaining("IDX_workflow_execution_in_flight_unique"),
      ])
    })
  })

  describe("upgrades Medusa itself made along the way", () => {
    // Redis engine 2.5 to 2.7: its 2025-01-20 migration added a unique index
    // on (workflow_id, transaction_id); Medusa's own 2025-05-05 migration
    // drops it when it adds run_id, and so does ours.
    const REDIS_BEFORE_RUN_ID = "Migration20250128174354"

    it("lets a finished transaction run again on a table the redis engine left before run_id existed", async () => {
      const medusa = await migrate(DB, MIGRATION_DIRS.redis, {
        to: REDIS_BEFORE_RUN_ID,
      })
      expect(medusa.executed).toContain("Migration20250120111059")
      await migrate(DB, MIGRATION_DIRS.ours)

      await engine.run(WF.storedThreeSteps, {
        input: { value: 1 },
        transactionId: "redis-2-5-again",
      })
      await engine.run(WF.storedThreeSteps, {
        input: { value: 2 },
        transactionId: "redis-2-5-again",
      })

      const runs = await engine.listWorkflowExecutions({
        transaction_id: "redis-2-5-again",
      })
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
      const rows = medusaRows().filter(
        (r) => r.id !== "wf_exec_01KAWA0000000000000000000A"
      )
      await withClient(DB, (client) =>
        insertMedusaRows(client, rows, { legacy: true })
      )
      await migrate(DB, MIGRATION_DIRS.ours)

      const stored = await rowsNow()
      expect(stored.map((r) => [r.id, r.retention_time])).toEqual(
        rows.map((r) => [r.id, r.execution.options.retentionTime ?? null])
      )
    })
  })
})
