import { Client } from "pg"
import { TestDatabaseUtils } from "@medusajs/test-utils"
import { runOnlineUpgrade } from "../../src/modules/workflow-engine/upgrade/online-upgrade"
import { REDUNDANT_INDEXES } from "../../src/modules/workflow-engine/migrations/Migration20261202090000"
import { waitUntil } from "./__fixtures__/engine"
import {
  duplicateIndexes,
  migrate,
  MIGRATION_DIRS,
  OUR_MIGRATIONS,
  sortCounts,
  withClient,
} from "./__fixtures__/migrations/database"
import {
  countsNow,
  DB,
  expectCounters,
  expectCountsExact,
  expectExpiryBackfilled,
  expectExpiryColumn,
  expectOurIndexes,
  expectRetentionTables,
  functionsNow,
  functionsReadingTasks,
  liveCountsOf,
  OUR_FUNCTIONS,
  OUR_TABLES,
  OUR_TRIGGERS,
  ourIndexes,
  queuedTasks,
  rowsNow,
  shapeOf,
  tablesNow,
  withoutExpiry,
  withoutExpiryColumn,
} from "./__fixtures__/migrations/expectations"
import {
  insertMedusaRows,
  MedusaRow,
  medusaRowsDuringDeploy,
} from "./__fixtures__/migrations/medusa-rows"
import {
  migrationSuite,
  prepareMedusaTable,
} from "./__fixtures__/migrations/migration-suite"

/*
 * Our migrations on the tables Medusa's own engines leave (see
 * migration-suite): what they add and keep, the part they leave to the
 * online upgrade, and the module reading Medusa's rows and storing its own.
 */

jest.setTimeout(60000)

const { getDatabaseURL } = TestDatabaseUtils

migrationSuite(
  ({ engine, expectModuleReads, expectNewRunStored, startupWarnings }) => {
    for (const kind of ["inmemory", "redis"] as const) {
      describe(`on the table of @medusajs/workflow-engine-${kind} (all of its migrations)`, () => {
        const prepare = (rows?: MedusaRow[]) => prepareMedusaTable(kind, rows)

        it("applies our four migrations cleanly, keeps the rows and Medusa's schema, adds only expires_at, our indexes, three tables and the counting triggers", async () => {
          const rows = await prepare()
          const before = await shapeOf()
          const tablesBefore = await tablesNow()
          const rowsBefore = await rowsNow()
          expect(rowsBefore).toHaveLength(5)
          expect(Object.keys(before.columns)).not.toContain("expires_at")
          expect(before.primaryKey).toEqual({
            name: "workflow_execution_pkey",
            columns: ["workflow_id", "transaction_id", "run_id"],
          })
          // Medusa's engines put no trigger on the table and no function in the schema.
          expect(before.triggers).toEqual({})
          expect(await functionsNow()).toEqual([])

          // Five rows: the migrations do all of it themselves, but the resource_ids back-fill, which reads
          // the ids by the engine's one table of prefixes (no migration may spell it); the start finishes it.
          const ours = await migrate(DB, MIGRATION_DIRS.ours, { online: false })
          expect(ours).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })
          expect(await queuedTasks()).toEqual(["backfill:resource_ids"])
          expect((await engine.finishUpgrade()).finished).toEqual([
            "backfill:resource_ids",
          ])
          expect(
            (await rowsNow()).filter((row) => !Array.isArray(row.resource_ids))
          ).toEqual([])

          // Every column Medusa wrote is as it was; the finished rows with a
          // retention expire when Medusa's engine would have deleted them.
          const rowsAfter = await rowsNow()
          expect(withoutExpiry(rowsAfter)).toEqual(rowsBefore)
          expectExpiryBackfilled(rowsAfter)
          expect(
            rowsAfter.filter((r) => r.expires_at !== null).map((r) => r.id)
          ).toEqual(rows.filter((r) => r.state !== "invoking").map((r) => r.id))

          const after = await shapeOf()
          expect(withoutExpiryColumn(after.columns)).toEqual(before.columns)
          expectExpiryColumn(after)
          expect(after.primaryKey).toEqual(before.primaryKey)
          // Every index Medusa made is still there, unchanged, but the four the sixth migration drops; only ours are new.
          for (const [name, definition] of Object.entries(before.indexes)) {
            expect(after.indexes[name]).toBe(
              REDUNDANT_INDEXES.includes(name) ? undefined : definition
            )
          }
          const added = Object.keys(after.indexes).filter(
            (name) => !(name in before.indexes)
          )
          expect(added.sort()).toEqual(ourIndexes())
          expectOurIndexes(after)
          expect(duplicateIndexes(after.indexes)).toEqual([])
          expect(Object.keys(after.triggers)).toEqual(OUR_TRIGGERS)

          expect(
            (await tablesNow()).filter((t) => !tablesBefore.includes(t))
          ).toEqual(OUR_TABLES)
          await expectRetentionTables()
          await expectCounters()
          expect((await countsNow()).counted).toEqual(liveCountsOf(rows))
        })

        it("leaves what reads the whole table to the online upgrade, which writers interleave with, and which leaves every index valid, the counts exact and the expiries filled", async () => {
          const rows = await prepare()
          expect(
            await migrate(DB, MIGRATION_DIRS.ours, {
              online: false,
              inlineMaxRows: 0,
            })
          ).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })

          // Committed by db:migrate: the counters hold nothing yet, no deferred index exists, no expiry is set.
          const queued = await queuedTasks()
          expect(queued).toEqual(
            [
              "backfill:count",
              "backfill:expires_at",
              "backfill:resource_ids",
              "backfill:retention_time",
              ...ourIndexes().map((name) => `index:${name}`),
            ].sort()
          )
          expect(
            Object.keys((await shapeOf()).indexes).filter((name) =>
              ourIndexes().includes(name)
            )
          ).toEqual([])
          expect((await countsNow()).counted).toEqual([])
          // Totals stay exact meanwhile: the module counts the rows instead of reading the counters.
          expect((await engine.listAndCountWorkflowExecutions({}))[1]).toBe(
            rows.filter((r) => !r.deleted_at).length
          )
          // So does the storage card's, and its groups.
          const storage = await engine.retrieveExecutionStorage()
          expect(storage.total_executions).toBe(
            rows.filter((r) => !r.deleted_at).length
          )
          expect(
            sortCounts(
              storage.groups.map(({ workflow_id, state, executions }) => ({
                workflow_id,
                state,
                executions,
              }))
            )
          ).toEqual(liveCountsOf(rows))
          // Meanwhile the count triggers read how far the back-fill got.
          expect(await functionsReadingTasks()).toEqual([
            "workflow_execution_count_rows",
            "workflow_execution_count_update",
            "workflow_execution_counted_through",
          ])

          // A transaction holds a finished row, so the expiry back-fill waits for it mid-way.
          const finished = rows.find(
            (r) => r.state === "done" && r.retention_time !== null
          )!
          const holder = new Client({ connectionString: getDatabaseURL(DB) })
          await holder.connect()
          let upgradePid = 0
          try {
            await holder.query("BEGIN")
            await holder.query(
              `SELECT 1 FROM workflow_execution WHERE id = $1 FOR UPDATE`,
              [finished.id]
            )
            const upgrade = runOnlineUpgrade(getDatabaseURL(DB), {
              batchSize: 1,
              onConnected: (pid) => (upgradePid = pid),
            })
            await waitUntil(
              () =>
                withClient(DB, async (client) => {
                  const { rows: waiting } = await client.query(
                    `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock' AND query LIKE 'UPDATE "workflow_execution"%'`,
                    [upgradePid]
                  )
                  return waiting.length > 0
                }),
              20000,
              { what: "the back-fill waiting for the held row" }
            )

            // Meanwhile a writer inserts a run and finishes it, as checkout does, without waiting for the upgrade.
            await withClient(DB, (client) =>
              insertMedusaRows(client, medusaRowsDuringDeploy().all)
            )
            await holder.query("COMMIT")
            const result = await upgrade
            expect(result.ran).toBe(true)
            expect(result.finished.sort()).toEqual(queued)
          } finally {
            await holder.end()
          }

          const shape = await shapeOf()
          expectOurIndexes(shape)
          const invalid = await withClient(
            DB,
            async (client) =>
              (
                await client.query(
                  `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              WHERE i.indrelid = 'workflow_execution'::regclass AND NOT (i.indisvalid AND i.indisready)`
                )
              ).rows
          )
          expect(invalid).toEqual([])
          await expectCountsExact()
          // Done: the triggers are the plain ones again, and the function they read the boundary with is gone.
          expect(await functionsNow()).toEqual(OUR_FUNCTIONS)
          expect(await functionsReadingTasks()).toEqual([])
          expect(
            (await engine.retrieveExecutionStorage()).total_executions
          ).toBe((await countsNow()).live.reduce((n, c) => n + c.executions, 0))
          const after = await rowsNow()
          // Medusa's rows got the expiry Medusa would give them; the writer's rows (Medusa's engine, mid-deploy) wait for a purge pass.
          const original = new Set(rows.map((r) => r.id))
          expectExpiryBackfilled(after.filter((r) => original.has(r.id)))
          expect(
            await withClient(DB, (client) =>
              client.query(
                `SELECT count(*)::int AS n FROM workflow_engine_upgrade_task`
              )
            )
          ).toMatchObject({ rows: [{ n: 0 }] })
          // Nothing left: the public method returns at once.
          expect((await engine.finishUpgrade()).finished).toEqual([])
        })

        it("rebuilds an index an interrupted CONCURRENTLY build left invalid", async () => {
          await prepare()
          expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({
            executed: OUR_MIGRATIONS,
            warnings: [],
          })
          await withClient(DB, async (client) => {
            // What a cancelled build leaves: the index is there, Postgres does not use it.
            await client.query(
              `UPDATE pg_index SET indisvalid = false WHERE indexrelid = '"IDX_workflow_execution_created_at"'::regclass`
            )
            await client.query(
              `INSERT INTO workflow_engine_upgrade_task (name) VALUES ('index:IDX_workflow_execution_created_at')`
            )
          })
          expect((await engine.finishUpgrade()).finished).toEqual([
            "index:IDX_workflow_execution_created_at",
          ])
          const valid = await withClient(
            DB,
            async (client) =>
              (
                await client.query(
                  `SELECT indisvalid FROM pg_index WHERE indexrelid = '"IDX_workflow_execution_created_at"'::regclass`
                )
              ).rows
          )
          expect(valid).toEqual([{ indisvalid: true }])
          expectOurIndexes(await shapeOf())
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
            ).rejects.toMatchObject({
              code: "23505",
              constraint: "IDX_workflow_execution_in_flight_unique",
            })

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
  }
)
