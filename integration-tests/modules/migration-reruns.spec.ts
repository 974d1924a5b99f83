import { REDUNDANT_INDEXES } from "../../src/modules/workflow-engine/migrations/Migration20261202090000"
import { WF } from "./__fixtures__/workflows"
import {
  duplicateIndexes,
  forgetMigration,
  migrate,
  MIGRATION_DIRS,
  OUR_AWAITED_MIGRATION,
  OUR_EVENTS_MIGRATION,
  OUR_RESOURCE_MIGRATION,
  OUR_KEEP_MIGRATION,
  OUR_CLUSTER_MIGRATION,
  OUR_COUNT_MIGRATION,
  OUR_FENCING_MIGRATION,
  OUR_FINISH_MIGRATION,
  OUR_FIRST_MIGRATION,
  OUR_LEAN_INDEX_MIGRATION,
  OUR_MIGRATIONS,
  OUR_PURGE_SCHEDULE_DROP_MIGRATION,
  OUR_RETENTION_MIGRATION,
  OUR_STORAGE_MIGRATION,
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
  expectPurgeScheduleTable,
  expectRetentionTables,
  expiryOf,
  extensionsNow,
  FINISH_TABLE,
  functionsNow,
  liveCountsOf,
  migrationNames,
  OUR_TABLES,
  KEPT_COLUMNS,
  BULK_ACTION_TABLE,
  ourIndexes,
  PURGE_SCHEDULE_TABLE,
  queuedTasks,
  recordedMigrations,
  rowsNow,
  shapeOf,
  StoredRow,
  tablesNow,
  UPGRADE_TASK_TABLE,
} from "./__fixtures__/migrations/expectations"
import {
  insertMedusaRows,
  medusaRows,
} from "./__fixtures__/migrations/medusa-rows"
import { migrationSuite } from "./__fixtures__/migrations/migration-suite"

/*
 * Our migrations run a second time, on an empty database, and reverted one
 * by one (see migration-suite).
 */

jest.setTimeout(60000)

migrationSuite(({ engine, expectModuleReads, expectNewRunStored }) => {
  describe("run again, and reverted", () => {
    it("changes nothing when they run a second time on a table Medusa created", async () => {
      await migrate(DB, MIGRATION_DIRS.inmemory)
      await withClient(DB, (client) => insertMedusaRows(client, medusaRows()))
      await migrate(DB, MIGRATION_DIRS.ours)
      const shape = await shapeOf()
      const tables = await tablesNow()
      const rows = await rowsNow()
      // The audit trail has an entry the second run must keep.
      await engine.purgeExpiredExecutions({
        dryRun: true,
        actor: "before-rerun",
      })
      const trail = await engine.listWorkflowExecutionPurges()
      expect(trail).toHaveLength(1)

      for (const name of OUR_MIGRATIONS) {
        await forgetMigration(DB, name)
      }
      expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({
        executed: OUR_MIGRATIONS,
        warnings: [],
      })

      expect(await shapeOf()).toEqual(shape)
      expect(await tablesNow()).toEqual(tables)
      await expectRetentionTables()
      await expectCounters()
      expect(await rowsNow()).toEqual(rows)
      expect(await engine.listWorkflowExecutionPurges()).toEqual(trail)
      expect((await countsNow()).counted).toEqual(liveCountsOf(medusaRows()))
    })

    it("creates the tables on an empty database, and changes nothing when they run a second time", async () => {
      expect(await migrate(DB, MIGRATION_DIRS.ours, { online: false })).toEqual(
        { executed: OUR_MIGRATIONS, warnings: [] }
      )
      // An empty table needs no online part: nothing is queued, no background upgrade runs.
      expect(await queuedTasks()).toEqual([])
      const shape = await shapeOf()
      expect(Object.keys(shape.columns)).toEqual([
        "id",
        "workflow_id",
        "transaction_id",
        "run_id",
        "execution",
        "context",
        "state",
        "retention_time",
        "created_at",
        "updated_at",
        "deleted_at",
        "expires_at",
        "owner_instance_id",
        "owner_epoch",
        "awaited_steps",
        "stuck_at",
        "resource_ids",
        ...KEPT_COLUMNS,
      ])
      expectExpiryColumn(shape)
      await expectRetentionTables()
      await expectCounters()
      expect(await tablesNow()).toEqual(
        ["mikro_orm_migrations", "workflow_execution", ...OUR_TABLES].sort()
      )
      expect((await countsNow()).counted).toEqual([])
      expect(shape.primaryKey).toEqual({
        name: "workflow_execution_pkey",
        columns: ["workflow_id", "transaction_id", "run_id"],
      })
      expectOurIndexes(shape)
      expect(duplicateIndexes(shape.indexes)).toEqual([])

      await expectNewRunStored(0)
      const rows = await rowsNow()
      // Our engine gave its finished run its expiry itself, and counted it (on its
      // way to done the run was stored as not_started, whose counter is back at zero).
      expectExpiryBackfilled(rows)
      expect(rows.map(expiryOf)).toEqual([expect.any(Number)])
      await expectCountsExact()
      expect((await countsNow()).live).toEqual([
        { workflow_id: WF.storedThreeSteps, state: "done", executions: 1 },
      ])

      for (const name of OUR_MIGRATIONS) {
        await forgetMigration(DB, name)
      }
      expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({
        executed: OUR_MIGRATIONS,
        warnings: [],
      })
      expect(await shapeOf()).toEqual(shape)
      expect(await rowsNow()).toEqual(rows)
      // Counted again from the rows: the counter left at zero is gone.
      expect((await countsNow()).counted).toEqual([
        { workflow_id: WF.storedThreeSteps, state: "done", executions: 1 },
      ])

      // Medusa's engines still apply on top of ours: the store can switch back, and its writes are counted.
      expect((await migrate(DB, MIGRATION_DIRS.inmemory)).executed).toEqual(
        migrationNames(MIGRATION_DIRS.inmemory)
      )
      expect(await rowsNow()).toEqual(rows)
      await withClient(DB, (client) => insertMedusaRows(client, medusaRows()))
      await expectCountsExact()
    })

    it("down() of each, in reverse order, removes what it added and nothing else", async () => {
      await migrate(DB, MIGRATION_DIRS.inmemory)
      const rows = medusaRows()
      await withClient(DB, (client) => insertMedusaRows(client, rows))
      const medusaShape = await shapeOf()
      const medusaTables = await tablesNow()
      const medusaRowsStored = await rowsNow()
      expect(await functionsNow()).toEqual([])

      // As the first migration alone leaves the table.
      expect(
        (await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_FIRST_MIGRATION }))
          .executed
      ).toEqual([OUR_FIRST_MIGRATION])
      const firstShape = await shapeOf()
      const firstRows = await rowsNow()
      expect(firstRows).toEqual(medusaRowsStored)

      // As the second one leaves it.
      expect(
        (
          await migrate(DB, MIGRATION_DIRS.ours, {
            to: OUR_RETENTION_MIGRATION,
          })
        ).executed
      ).toEqual([OUR_RETENTION_MIGRATION])
      const retentionShape = await shapeOf()
      const retentionTables = await tablesNow()
      const retentionRows = await rowsNow()
      expect(retentionShape.triggers).toEqual({})

      expect(
        (await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_COUNT_MIGRATION }))
          .executed
      ).toEqual([OUR_COUNT_MIGRATION])
      const countShape = await shapeOf()
      const countRows = await rowsNow()

      expect(
        (await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_STORAGE_MIGRATION }))
          .executed
      ).toEqual([OUR_STORAGE_MIGRATION])
      const storageShape = await shapeOf()
      const storageTables = await tablesNow()
      const storageRows = await rowsNow()

      expect(
        (await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_CLUSTER_MIGRATION }))
          .executed
      ).toEqual([OUR_CLUSTER_MIGRATION])
      const clusterShape = await shapeOf()
      const clusterTables = await tablesNow()
      const clusterRows = await rowsNow()

      expect(
        (
          await migrate(DB, MIGRATION_DIRS.ours, {
            to: OUR_LEAN_INDEX_MIGRATION,
          })
        ).executed
      ).toEqual([OUR_LEAN_INDEX_MIGRATION])
      const leanShape = await shapeOf()
      const leanTables = await tablesNow()
      const leanRows = await rowsNow()
      expect(leanTables).toContain(PURGE_SCHEDULE_TABLE)
      await expectPurgeScheduleTable()

      expect(
        (await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_FINISH_MIGRATION }))
          .executed
      ).toEqual([OUR_FINISH_MIGRATION])
      const finishShape = await shapeOf()
      const finishTables = await tablesNow()
      expect(finishTables).toEqual([...leanTables, FINISH_TABLE].sort())

      expect(
        (
          await migrate(DB, MIGRATION_DIRS.ours, {
            to: OUR_PURGE_SCHEDULE_DROP_MIGRATION,
          })
        ).executed
      ).toEqual([OUR_PURGE_SCHEDULE_DROP_MIGRATION])
      const droppedShape = await shapeOf()
      const droppedRows = await rowsNow()
      expect(await tablesNow()).toEqual(
        finishTables.filter((table) => table !== PURGE_SCHEDULE_TABLE)
      )

      expect(
        (await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_FENCING_MIGRATION }))
          .executed
      ).toEqual([OUR_FENCING_MIGRATION])
      // Every row there starts at epoch 0, nothing else changes.
      const fencedShape = await shapeOf()
      const fencedRows = await rowsNow()
      expect(fencedRows).toEqual(
        droppedRows.map((row: StoredRow) => ({ ...row, owner_epoch: 0 }))
      )

      expect(
        (await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_AWAITED_MIGRATION }))
          .executed
      ).toEqual([OUR_AWAITED_MIGRATION])
      // The rows there do not say which handlers returned (NULL, "not known"), nothing else changes.
      const awaitedShape = await shapeOf()
      const awaitedRows = await rowsNow()
      expect(awaitedRows).toEqual(
        fencedRows.map((row: StoredRow) => ({ ...row, awaited_steps: null }))
      )
      const awaitedTables = await tablesNow()

      expect(
        (await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_EVENTS_MIGRATION }))
          .executed
      ).toEqual([OUR_EVENTS_MIGRATION])
      // No row there was reported stuck (NULL); the outbox is a table more.
      const eventsShape = await shapeOf()
      const eventsTables = await tablesNow()
      const eventsRows = await rowsNow()
      expect(eventsRows).toEqual(
        awaitedRows.map((row: StoredRow) => ({ ...row, stuck_at: null }))
      )
      expect(eventsTables).toEqual(
        [...awaitedTables, "workflow_engine_event"].sort()
      )

      expect(
        (await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_RESOURCE_MIGRATION }))
          .executed
      ).toEqual([OUR_RESOURCE_MIGRATION])
      // Each row gets the ids of its input, read by the online upgrade's back-fill; nothing else changes.
      expect(
        (await rowsNow()).map(({ resource_ids, ...row }: StoredRow) => ({
          row,
          filled: Array.isArray(resource_ids),
        }))
      ).toEqual(eventsRows.map((row) => ({ row, filled: true })))
      const resourceShape = await shapeOf()
      const resourceTables = await tablesNow()
      const resourceRows = await rowsNow()

      expect((await migrate(DB, MIGRATION_DIRS.ours)).executed).toEqual([
        OUR_KEEP_MIGRATION,
      ])
      // Nobody keeps any run yet; the bulk action audit is a table more.
      expect(await rowsNow()).toEqual(
        resourceRows.map((row: StoredRow) => ({
          ...row,
          kept_at: null,
          kept_by: null,
          kept_reason: null,
          kept_expires_at: null,
        }))
      )
      expect(await tablesNow()).toEqual(
        [...resourceTables, BULK_ACTION_TABLE].sort()
      )
      await engine.purgeExpiredExecutions({ dryRun: true })
      await expectCounters()
      const extensions = await extensionsNow()
      const leanIndexes = Object.keys((await shapeOf()).indexes)
      expect(
        leanIndexes.filter((name) => REDUNDANT_INDEXES.includes(name))
      ).toEqual([])

      // The thirteenth one's down(): the kept columns, skipped_kept and the bulk action table go, nothing else.
      const thirteenth = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
      expect(thirteenth).toEqual({
        executed: [OUR_KEEP_MIGRATION],
        warnings: [],
      })
      expect(await shapeOf()).toEqual(resourceShape)
      expect(await tablesNow()).toEqual(resourceTables)
      expect(await rowsNow()).toEqual(resourceRows)

      // The twelfth one's down(): resource_ids and its index go, nothing else.
      const twelfth = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
      expect(twelfth).toEqual({
        executed: [OUR_RESOURCE_MIGRATION],
        warnings: [],
      })
      expect(await shapeOf()).toEqual(eventsShape)
      expect(await rowsNow()).toEqual(eventsRows)

      // The eleventh one's down(): the outbox and stuck_at go, nothing else.
      const eleventh = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
      expect(eleventh).toEqual({
        executed: [OUR_EVENTS_MIGRATION],
        warnings: [],
      })
      expect(await shapeOf()).toEqual(awaitedShape)
      expect(await tablesNow()).toEqual(awaitedTables)
      expect(await rowsNow()).toEqual(awaitedRows)

      // The tenth one's down(): awaited_steps goes, nothing else.
      const tenth = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
      expect(tenth).toEqual({ executed: [OUR_AWAITED_MIGRATION], warnings: [] })
      expect(await shapeOf()).toEqual(fencedShape)
      expect(await rowsNow()).toEqual(fencedRows)

      // The ninth one's down(): the epoch goes, nothing else.
      const ninth = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
      expect(ninth).toEqual({ executed: [OUR_FENCING_MIGRATION], warnings: [] })
      expect(await shapeOf()).toEqual(droppedShape)
      expect(await rowsNow()).toEqual(droppedRows)

      // The eighth one's down(): the table of the scheduled purge comes back, empty, as the second made it.
      const eighth = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
      expect(eighth).toEqual({
        executed: [OUR_PURGE_SCHEDULE_DROP_MIGRATION],
        warnings: [],
      })
      expect(await shapeOf()).toEqual(finishShape)
      expect(await tablesNow()).toEqual(finishTables)
      await expectPurgeScheduleTable()

      // The seventh one's down(): the log of finishes goes, nothing else.
      const seventh = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
      expect(seventh).toEqual({
        executed: [OUR_FINISH_MIGRATION],
        warnings: [],
      })
      expect(await shapeOf()).toEqual(leanShape)
      expect(await tablesNow()).toEqual(leanTables)
      expect(await rowsNow()).toEqual(leanRows)

      // The sixth one's down(): the four indexes come back, nothing else.
      const sixth = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
      expect(sixth).toEqual({
        executed: [OUR_LEAN_INDEX_MIGRATION],
        warnings: [],
      })
      expect(await shapeOf()).toEqual(clusterShape)
      expect(await tablesNow()).toEqual(clusterTables)
      expect(await rowsNow()).toEqual(clusterRows)

      // The fifth one's down(): its three tables and the owner column go, nothing else.
      const fifth = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
      expect(fifth).toEqual({ executed: [OUR_CLUSTER_MIGRATION], warnings: [] })
      expect(await shapeOf()).toEqual(storageShape)
      expect(await tablesNow()).toEqual(storageTables)
      expect(await rowsNow()).toEqual(storageRows)

      // The fourth one's down(): its index goes, nothing else.
      const fourth = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
      expect(fourth).toEqual({
        executed: [OUR_STORAGE_MIGRATION],
        warnings: [],
      })
      expect(await shapeOf()).toEqual(countShape)
      expect(await rowsNow()).toEqual(countRows)

      // The third one's down(): its triggers, their functions, the counts and its two indexes go;
      // the rows stay, and so does pg_trgm, which other tables may use.
      const third = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
      expect(third).toEqual({ executed: [OUR_COUNT_MIGRATION], warnings: [] })
      expect(await shapeOf()).toEqual(retentionShape)
      expect(await tablesNow()).toEqual(retentionTables)
      expect(await functionsNow()).toEqual([])
      expect(await extensionsNow()).toEqual(extensions)
      expect(await rowsNow()).toEqual(retentionRows)
      await expectRetentionTables(false)

      // The second one's down(): expires_at, its index and the two tables go; the rows stay.
      const second = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
      expect(second).toEqual({
        executed: [OUR_RETENTION_MIGRATION],
        warnings: [],
      })
      expect(await shapeOf()).toEqual(firstShape)
      expect(await tablesNow()).toEqual(
        [...medusaTables, UPGRADE_TASK_TABLE].sort()
      )
      expect(await rowsNow()).toEqual(firstRows)

      // Then the first one's: its two indexes and the table of upgrade tasks go.
      const first = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
      expect(first).toEqual({ executed: [OUR_FIRST_MIGRATION], warnings: [] })

      const after = await shapeOf()
      expect(after).toEqual(medusaShape)
      for (const name of ourIndexes()) {
        expect(Object.keys(after.indexes)).not.toContain(name)
      }
      expect(after.triggers).toEqual({})
      expect(Object.keys(after.columns)).not.toContain("expires_at")
      expect(await tablesNow()).toEqual(medusaTables)
      expect(await functionsNow()).toEqual([])
      expect(await rowsNow()).toEqual(medusaRowsStored)
      expect(await recordedMigrations()).toEqual(
        migrationNames(MIGRATION_DIRS.inmemory)
      )

      // The module still reads the history after the revert, apart from what it reads
      // through the counters, which went with the third migration.
      await expectModuleReads(rows)
    })
  })
})
