import { moduleIntegrationTestRunner } from "@medusajs/test-utils"
import { IWorkflowEngineService, WorkflowExecutionDTO } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import fs from "fs"
import { Client } from "pg"
import { TestDatabaseUtils } from "@medusajs/test-utils"
import { runOnlineUpgrade } from "../../src/modules/workflow-engine/upgrade/online-upgrade"
import type { WorkflowsModuleService } from "../../src/modules/workflow-engine/services/workflows-module"
import { MODULE_PATH, TEST_DATABASE, waitUntil, withEngineShutdown } from "./__fixtures__/engine"
import { WF } from "./__fixtures__/workflows"
import {
  dropDatabase,
  duplicateIndexes,
  ensureDatabase,
  ExecutionCount,
  executionCounts,
  extensionNames,
  forgetMigration,
  functionNames,
  MEDUSA_FIRST_MIGRATION,
  migrate,
  MIGRATION_DIRS,
  OUR_COUNT_MIGRATION,
  OUR_FIRST_MIGRATION,
  OUR_MIGRATIONS,
  OUR_RETENTION_MIGRATION,
  OUR_STORAGE_MIGRATION,
  OUR_CLUSTER_MIGRATION,
  OUR_LEAN_INDEX_MIGRATION,
  OUR_FINISH_MIGRATION,
  OUR_PURGE_SCHEDULE_DROP_MIGRATION,
  OUR_FENCING_MIGRATION,
  OUR_AWAITED_MIGRATION,
  resetSchema,
  snapshotRows,
  sortCounts,
  tableNames,
  tableShape,
  TableShape,
  trigramsAvailable,
  withClient,
} from "./__fixtures__/migrations/database"
import {
  insertMedusaRows,
  MEDUSA_WORKFLOW,
  MedusaRow,
  medusaRows,
  medusaRowsAroundExpiry,
  medusaRowsDuringDeploy,
  medusaRowsWithSoftDeleted,
} from "./__fixtures__/migrations/medusa-rows"
import { REDUNDANT_INDEXES } from "../../src/modules/workflow-engine/migrations/Migration20261202090000"

/*
 * Our migrations against tables that Medusa's own engines created, on a real
 * Postgres. Every test starts from an empty `public` schema of its own
 * database, runs Medusa's real migrations from node_modules with MikroORM's
 * migrator (as `medusa db:migrate` does), writes Medusa-shaped rows, then runs
 * our migrations on top and reads the result through our module.
 *
 * Our directory holds ten migrations, applied in order: the first creates or
 * aligns `workflow_execution` and adds two indexes (created_at, the in-flight
 * guard); the second adds retention: the `expires_at` column (filled for the
 * finished rows already there), its index, and the tables
 * `workflow_execution_purge` (audit trail) and `workflow_execution_purge_schedule`
 * (which the seventh drops again: nothing writes it since the purge became a cluster schedule);
 * the third adds what listing at scale reads: the table `workflow_execution_count`
 * (live runs by workflow and state, spread over slots), filled from the rows
 * already there and kept exact by four triggers on `workflow_execution` (and
 * their three functions), an index on (workflow_id, state, created_at) and,
 * where the server ships pg_trgm, the extension and a trigram index on
 * transaction_id; the fourth adds the partial index of finished runs without
 * retention or expiry ("kept forever") that the admin's storage card counts;
 * the fifth the tables many instances share and the owner column; the sixth
 * drops four indexes; the seventh adds the log of finishes; the eighth drops
 * the purge's schedule table; the ninth adds the fencing epoch of runs.
 */

jest.setTimeout(60000)

const { getDatabaseURL } = TestDatabaseUtils

// One per checkout, as TEST_DATABASE.
const DB = `medusa-wep-migration-compat-${TEST_DATABASE.slice("medusa-wep-test-".length)}`

/** The first migration's two indexes and the second one's two, by name. */
const FIRST_AND_RETENTION_INDEXES = [
  "IDX_workflow_execution_created_at",
  "IDX_workflow_execution_expires_at",
  "IDX_workflow_execution_in_flight_unique",
  "IDX_workflow_execution_missing_expiry",
]
const TRIGRAM_INDEX = "IDX_workflow_execution_transaction_id_trgm"
/**
 * Whether this server ships pg_trgm (read once, before the tests): the third
 * migration then creates the extension and the trigram index, and must not
 * otherwise. The server the tests use as a rule has it.
 */
let trigrams = false
/** The fourth migration's index. */
const KEPT_FOREVER_INDEX = "IDX_workflow_execution_kept_forever"
/** Every index our migrations add to `workflow_execution`, by name: the four above, the third one's and the fourth's. */
function ourIndexes(): string[] {
  return [
    ...FIRST_AND_RETENTION_INDEXES,
    ...(trigrams ? [TRIGRAM_INDEX] : []),
    "IDX_workflow_execution_workflow_id_state_created_at",
    KEPT_FOREVER_INDEX,
  ].sort()
}
/** The table the second migration adds and the seventh keeps. */
const RETENTION_TABLES = ["workflow_execution_purge"]
/** The table the second migration adds and the seventh drops. */
const PURGE_SCHEDULE_TABLE = "workflow_execution_purge_schedule"
/** The table the third migration adds. */
const COUNT_TABLE = "workflow_execution_count"
/** The tables the fifth migration adds: what many instances share. */
const CLUSTER_TABLES = ["workflow_engine_instance", "workflow_engine_schedule", "workflow_execution_timer"]
/** The table the seventh migration adds: finishes, for instances that cannot LISTEN. */
const FINISH_TABLE = "workflow_engine_finish"
/** The table the first migration adds: the work it and the others leave to the online upgrade. */
const UPGRADE_TASK_TABLE = "workflow_engine_upgrade_task"
/** Every table our migrations add, by name. */
const OUR_TABLES = [...CLUSTER_TABLES, FINISH_TABLE, COUNT_TABLE, ...RETENTION_TABLES, UPGRADE_TASK_TABLE].sort()
/** The triggers the third migration puts on `workflow_execution`, and the functions they run. */
const OUR_TRIGGERS = [
  "workflow_execution_count_delete",
  "workflow_execution_count_insert",
  "workflow_execution_count_truncate",
  "workflow_execution_count_update",
]
const OUR_FUNCTIONS = ["workflow_execution_count_rows", "workflow_execution_count_truncate", "workflow_execution_count_update"]
const FINISHED_STATES = ["done", "failed", "reverted"]
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

const shapeOf = () => withClient(DB, (client) => tableShape(client))
const rowsNow = (): Promise<StoredRow[]> => withClient(DB, snapshotRows)
const tablesNow = () => withClient(DB, tableNames)
const functionsNow = () => withClient(DB, functionNames)
const extensionsNow = () => withClient(DB, extensionNames)
const countsNow = () => withClient(DB, executionCounts)
/** Our functions that read the table of upgrade tasks, themselves or through workflow_execution_counted_through: the count triggers' while the online upgrade counts. */
const functionsReadingTasks = () =>
  withClient(DB, async (client) =>
    (await client.query(
      `SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND (prosrc LIKE '%workflow_engine_upgrade_task%' OR prosrc LIKE '%workflow_execution_counted_through%') ORDER BY proname`
    )).rows.map((r) => r.proname)
  )
/** What the migrations left to the online upgrade, by name. */
const queuedTasks = () =>
  withClient(DB, async (client) =>
    (await client.query(`SELECT name FROM workflow_engine_upgrade_task ORDER BY name`)).rows.map((r) => r.name)
  )

type StoredRow = Record<string, any>

/** Stored rows without the columns our second, fifth, ninth and tenth migrations add: what Medusa's engines wrote. */
function withoutExpiry(rows: StoredRow[]): StoredRow[] {
  return rows.map(({ expires_at: _, owner_instance_id: __, owner_epoch: ___, awaited_steps: ____, ...rest }) => rest)
}

/**
 * A stored timestamp in epoch milliseconds. Medusa's tables keep
 * created_at/updated_at without a time zone, in UTC (the test database's
 * sessions run in UTC, see ensureDatabase): read them as UTC, whatever the
 * zone of the process running the tests.
 */
function instant(stored: string): number {
  return Date.parse(/(Z|[+-]\d\d(:\d\d)?)$/.test(stored) ? stored : `${stored}Z`)
}

/** A stored expiry in epoch milliseconds, or null. */
function expiryOf(row: StoredRow): number | null {
  return row.expires_at === null ? null : instant(row.expires_at)
}

/**
 * When Medusa's engines let a stored row go: `retention_time` seconds after
 * its last update, once finished; never while in flight or without retention.
 */
function medusaExpiry(row: StoredRow): number | null {
  return FINISHED_STATES.includes(row.state) && row.retention_time !== null
    ? instant(row.updated_at) + row.retention_time * 1000
    : null
}

/** Every row has the expiry Medusa's engines would give it, and nothing else changed. */
function expectExpiryBackfilled(rows: StoredRow[]) {
  expect(rows.map((row) => [row.id, expiryOf(row)])).toEqual(rows.map((row) => [row.id, medusaExpiry(row)]))
}

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

/**
 * The columns the second, fifth, ninth and tenth migrations add, the last
 * ones of the table: optional and without a default, but the epoch (0 for
 * the rows already there, so that adding it rewrites nothing).
 */
function expectExpiryColumn(shape: TableShape) {
  expect(shape.columns.expires_at).toEqual({ type: "timestamp with time zone", nullable: true, default: null })
  expect(shape.columns.owner_instance_id).toEqual({ type: "text", nullable: true, default: null })
  expect(shape.columns.owner_epoch).toEqual({ type: "integer", nullable: false, default: "0" })
  expect(shape.columns.awaited_steps).toEqual({ type: "ARRAY", nullable: true, default: null })
  expect(Object.keys(shape.columns).slice(-4)).toEqual(["expires_at", "owner_instance_id", "owner_epoch", "awaited_steps"])
}

/** Columns apart from the ones our migrations add. */
function withoutExpiryColumn(columns: TableShape["columns"]): TableShape["columns"] {
  const { expires_at: _, owner_instance_id: __, owner_epoch: ___, awaited_steps: ____, ...rest } = columns
  return rest
}

function expectOurIndexes(shape: TableShape) {
  expect(shape.indexes["IDX_workflow_execution_workflow_id_state_created_at"]).toMatch(
    /^CREATE INDEX "IDX_workflow_execution_workflow_id_state_created_at" ON public\.workflow_execution USING btree \(workflow_id, state, created_at\) WHERE \(deleted_at IS NULL\)$/
  )
  if (trigrams) {
    expect(shape.indexes[TRIGRAM_INDEX]).toMatch(
      /^CREATE INDEX "IDX_workflow_execution_transaction_id_trgm" ON public\.workflow_execution USING gin \(transaction_id (public\.)?gin_trgm_ops\) WHERE \(deleted_at IS NULL\)$/
    )
  } else {
    expect(shape.indexes).not.toHaveProperty(TRIGRAM_INDEX)
  }
  expect(shape.indexes[KEPT_FOREVER_INDEX]).toMatch(
    /^CREATE INDEX "IDX_workflow_execution_kept_forever" ON public\.workflow_execution USING btree \(workflow_id\) WHERE \(\(expires_at IS NULL\) AND \(retention_time IS NULL\)/
  )
  expect(shape.indexes["IDX_workflow_execution_expires_at"]).toMatch(
    /ON public\.workflow_execution USING btree \(expires_at\) WHERE \(expires_at IS NOT NULL\)/
  )
  expect(shape.indexes["IDX_workflow_execution_missing_expiry"]).toMatch(
    /ON public\.workflow_execution USING btree \(updated_at\) WHERE \(\(expires_at IS NULL\) AND \(retention_time IS NOT NULL\)/
  )
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

/** The audit trail, as the second migration creates it. */
async function expectRetentionTables() {
  const tables = await tablesNow()
  for (const table of RETENTION_TABLES) {
    expect(tables).toContain(table)
  }

  const purge = await withClient(DB, (client) => tableShape(client, "workflow_execution_purge"))
  const column = (type: string, nullable: boolean, defaultValue: string | null = null) => ({
    type,
    nullable,
    default: defaultValue,
  })
  expect(purge.columns).toEqual({
    id: column("text", false),
    trigger: column("text", false),
    actor: column("text", true),
    dry_run: column("boolean", false, "false"),
    deleted: column("integer", false, "0"),
    batches: column("integer", false, "0"),
    duration_ms: column("integer", false, "0"),
    longest_batch_ms: column("integer", false, "0"),
    transaction_ids: column("jsonb", true),
    error: column("text", true),
    started_at: column("timestamp with time zone", false),
    created_at: column("timestamp with time zone", false, "now()"),
    updated_at: column("timestamp with time zone", false, "now()"),
    deleted_at: column("timestamp with time zone", true),
  })
  expect(purge.primaryKey).toEqual({ name: "workflow_execution_purge_pkey", columns: ["id"] })
  expect(Object.keys(purge.indexes).sort()).toEqual([
    "IDX_workflow_execution_purge_created_at",
    "workflow_execution_purge_pkey",
  ])
  expect(purge.indexes["IDX_workflow_execution_purge_created_at"]).toMatch(
    /ON public\.workflow_execution_purge USING btree \(created_at DESC\) WHERE \(deleted_at IS NULL\)/
  )
}

/** The table of the scheduled purge as the second migration creates it (and the seventh's down() puts it back). */
async function expectPurgeScheduleTable() {
  const schedule = await withClient(DB, (client) => tableShape(client, PURGE_SCHEDULE_TABLE))
  expect(schedule.columns).toEqual({
    name: { type: "text", nullable: false, default: null },
    next_run_at: { type: "timestamp with time zone", nullable: false, default: null },
  })
  expect(schedule.primaryKey).toEqual({ name: "workflow_execution_purge_schedule_pkey", columns: ["name"] })
  expect(Object.keys(schedule.indexes)).toEqual(["workflow_execution_purge_schedule_pkey"])
}

/**
 * The counters as the third migration makes them: the table, the four
 * triggers on `workflow_execution` (inserts and deletes counted per
 * statement from their transition tables, updates per row and only when
 * they change what is counted, truncate clearing the counts) and the three
 * functions they run; with pg_trgm, when the server ships it.
 */
async function expectCounters() {
  expect(await tablesNow()).toContain(COUNT_TABLE)
  const counts = await withClient(DB, (client) => tableShape(client, COUNT_TABLE))
  expect(counts).toEqual({
    columns: {
      workflow_id: { type: "text", nullable: false, default: null },
      state: { type: "text", nullable: false, default: null },
      slot: { type: "smallint", nullable: false, default: null },
      executions: { type: "bigint", nullable: false, default: null },
    },
    primaryKey: { name: "workflow_execution_count_pkey", columns: ["workflow_id", "state", "slot"] },
    indexes: {
      workflow_execution_count_pkey: expect.stringMatching(
        /^CREATE UNIQUE INDEX workflow_execution_count_pkey ON public\.workflow_execution_count USING btree \(workflow_id, state, slot\)$/
      ),
    },
    triggers: {},
  })

  const { triggers } = await shapeOf()
  expect(Object.keys(triggers)).toEqual(OUR_TRIGGERS)
  expect(triggers).toEqual({
    workflow_execution_count_insert:
      "CREATE TRIGGER workflow_execution_count_insert AFTER INSERT ON public.workflow_execution REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION workflow_execution_count_rows()",
    workflow_execution_count_delete:
      "CREATE TRIGGER workflow_execution_count_delete AFTER DELETE ON public.workflow_execution REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION workflow_execution_count_rows()",
    workflow_execution_count_update: expect.stringMatching(
      /^CREATE TRIGGER workflow_execution_count_update AFTER UPDATE ON public\.workflow_execution FOR EACH ROW WHEN \(.*\) EXECUTE FUNCTION workflow_execution_count_update\(\)$/
    ),
    workflow_execution_count_truncate:
      "CREATE TRIGGER workflow_execution_count_truncate AFTER TRUNCATE ON public.workflow_execution FOR EACH STATEMENT EXECUTE FUNCTION workflow_execution_count_truncate()",
  })
  // Fired only when the update changes what is counted: workflow, state, or live or not.
  const when = triggers.workflow_execution_count_update.match(/WHEN \((.*)\) EXECUTE/)![1]
  for (const column of ["state", "workflow_id", "deleted_at"]) {
    expect(when).toContain(`old.${column}`)
    expect(when).toContain(`new.${column}`)
  }

  expect(await functionsNow()).toEqual(OUR_FUNCTIONS)
  // Once the counts are whole (at once on a small table, or when the online upgrade is done), no write reads the task table.
  expect(await functionsReadingTasks()).toEqual([])
  expect((await extensionsNow()).includes("pg_trgm")).toBe(trigrams)
}

/** Live runs by workflow and state, as rows written to the table give them. */
function liveCountsOf(rows: MedusaRow[]): ExecutionCount[] {
  const counts = new Map<string, ExecutionCount>()
  for (const row of rows.filter((r) => !r.deleted_at)) {
    const key = `${row.workflow_id}|${row.state}`
    const count = counts.get(key) ?? { workflow_id: row.workflow_id, state: row.state, executions: 0 }
    counts.set(key, { ...count, executions: count.executions + 1 })
  }
  return sortCounts([...counts.values()])
}

/**
 * The counters, summed over their slots, give every workflow and state
 * exactly its live runs. A workflow and state whose runs are all gone may
 * keep counters that add up to zero, and nothing else.
 */
async function expectCountsExact() {
  const { counted, live } = await countsNow()
  expect(counted.filter((c) => c.executions !== 0)).toEqual(live)
}

/** Names MikroORM recorded as run, in order. */
async function recordedMigrations(): Promise<string[]> {
  return await withClient(DB, async (client) => {
    const { rows } = await client.query(`SELECT name FROM mikro_orm_migrations ORDER BY name`)
    return rows.map((r) => r.name)
  })
}

/** The module's service, with the retention methods the plugin adds to the interface. */
type Engine = IWorkflowEngineService &
  Pick<WorkflowsModuleService, "purgeExpiredExecutions" | "listWorkflowExecutionPurges" | "finishUpgrade" | "retrieveExecutionStorage" | "retrieveExecutionRetention">

beforeAll(async () => {
  await ensureDatabase(DB)
  trigrams = await trigramsAvailable(DB)
})

afterAll(async () => {
  await dropDatabase(DB)
})

moduleIntegrationTestRunner<Engine>({
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  dbName: DB,
  // No models for the runner: it must neither migrate nor refresh the schema;
  // each test builds the table itself, the way a store got it.
  moduleModels: [],
  testSuite: withEngineShutdown(({ service: engine }) => {
    beforeEach(async () => {
      await resetSchema(DB)
    })

    /**
     * The module reads the rows as Medusa wrote them. `counters: false` leaves
     * out what the module reads through the counters of our third migration,
     * so needs it applied: the totals of its lists, and `q` (the workflows it
     * searches are picked from the counters).
     */
    async function expectModuleReads(rows: MedusaRow[], { counters = true }: { counters?: boolean } = {}) {
      const newestFirst = [...rows].sort((a, b) => b.created_at.localeCompare(a.created_at))

      const listed = await engine.listWorkflowExecutions({}, { order: { created_at: "DESC" } })
      expect(listed).toEqual(newestFirst.map(asRead))

      const page = await engine.listWorkflowExecutions({}, { take: 2, skip: 1, order: { created_at: "DESC" } })
      expect(page).toEqual(newestFirst.slice(1, 3).map(asRead))

      if (counters) {
        const [countedPage, count] = await engine.listAndCountWorkflowExecutions({}, { take: 2, skip: 1, order: { created_at: "DESC" } })
        expect(count).toBe(rows.length)
        expect(countedPage).toEqual(page)

        const payments = rows.filter((r) => r.workflow_id === MEDUSA_WORKFLOW.payment)
        const [, paymentCount] = await engine.listAndCountWorkflowExecutions({ workflow_id: MEDUSA_WORKFLOW.payment })
        expect(paymentCount).toBe(payments.length)
      }

      const inFlight = await engine.listWorkflowExecutions({ state: "invoking" })
      expect(inFlight).toEqual(rows.filter((r) => r.state === "invoking").map(asRead))

      if (counters) {
        const searched = await engine.listWorkflowExecutions({ q: "refund" } as any)
        expect(searched.map((e) => e.transaction_id)).toEqual(["pay_01KAWREFUND"])
      }

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
        async function prepare(rows: MedusaRow[] = medusaRows()) {
          const medusa = await migrate(DB, MIGRATION_DIRS[kind])
          expect(medusa.executed).toEqual(migrationNames(MIGRATION_DIRS[kind]))
          await withClient(DB, (client) => insertMedusaRows(client, rows))
          return rows
        }

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

          // Five rows: the migrations do all of it themselves, and leave nothing to the online upgrade.
          const ours = await migrate(DB, MIGRATION_DIRS.ours, { online: false })
          expect(ours).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })
          expect(await queuedTasks()).toEqual([])

          // Every column Medusa wrote is as it was; the finished rows with a
          // retention expire when Medusa's engine would have deleted them.
          const rowsAfter = await rowsNow()
          expect(withoutExpiry(rowsAfter)).toEqual(rowsBefore)
          expectExpiryBackfilled(rowsAfter)
          expect(rowsAfter.filter((r) => r.expires_at !== null).map((r) => r.id)).toEqual(
            rows.filter((r) => r.state !== "invoking").map((r) => r.id)
          )

          const after = await shapeOf()
          expect(withoutExpiryColumn(after.columns)).toEqual(before.columns)
          expectExpiryColumn(after)
          expect(after.primaryKey).toEqual(before.primaryKey)
          // Every index Medusa made is still there, unchanged, but the four the sixth migration drops; only ours are new.
          for (const [name, definition] of Object.entries(before.indexes)) {
            expect(after.indexes[name]).toBe(REDUNDANT_INDEXES.includes(name) ? undefined : definition)
          }
          const added = Object.keys(after.indexes).filter((name) => !(name in before.indexes))
          expect(added.sort()).toEqual(ourIndexes())
          expectOurIndexes(after)
          expect(duplicateIndexes(after.indexes)).toEqual([])
          expect(Object.keys(after.triggers)).toEqual(OUR_TRIGGERS)

          expect((await tablesNow()).filter((t) => !tablesBefore.includes(t))).toEqual(OUR_TABLES)
          await expectRetentionTables()
          await expectCounters()
          expect((await countsNow()).counted).toEqual(liveCountsOf(rows))
        })

        it("leaves what reads the whole table to the online upgrade, which writers interleave with, and which leaves every index valid, the counts exact and the expiries filled", async () => {
          const rows = await prepare()
          expect(await migrate(DB, MIGRATION_DIRS.ours, { online: false, inlineMaxRows: 0 })).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })

          // Committed by db:migrate: the counters hold nothing yet, no deferred index exists, no expiry is set.
          const queued = await queuedTasks()
          expect(queued).toEqual(
            ["backfill:count", "backfill:expires_at", "backfill:retention_time", ...ourIndexes().map((name) => `index:${name}`)].sort()
          )
          expect(Object.keys((await shapeOf()).indexes).filter((name) => ourIndexes().includes(name))).toEqual([])
          expect((await countsNow()).counted).toEqual([])
          // Totals stay exact meanwhile: the module counts the rows instead of reading the counters.
          expect((await engine.listAndCountWorkflowExecutions({}))[1]).toBe(rows.filter((r) => !r.deleted_at).length)
          // So does the storage card's, and its groups.
          const storage = await engine.retrieveExecutionStorage()
          expect(storage.total_executions).toBe(rows.filter((r) => !r.deleted_at).length)
          expect(sortCounts(storage.groups.map(({ workflow_id, state, executions }) => ({ workflow_id, state, executions })))).toEqual(
            liveCountsOf(rows)
          )
          // Meanwhile the count triggers read how far the back-fill got.
          expect(await functionsReadingTasks()).toEqual([
            "workflow_execution_count_rows",
            "workflow_execution_count_update",
            "workflow_execution_counted_through",
          ])

          // A transaction holds a finished row, so the expiry back-fill waits for it mid-way.
          const finished = rows.find((r) => r.state === "done" && r.retention_time !== null)!
          const holder = new Client({ connectionString: getDatabaseURL(DB) })
          await holder.connect()
          let upgradePid = 0
          try {
            await holder.query("BEGIN")
            await holder.query(`SELECT 1 FROM workflow_execution WHERE id = $1 FOR UPDATE`, [finished.id])
            const upgrade = runOnlineUpgrade(getDatabaseURL(DB), { batchSize: 1, onConnected: (pid) => (upgradePid = pid) })
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
            await withClient(DB, (client) => insertMedusaRows(client, medusaRowsDuringDeploy().all))
            await holder.query("COMMIT")
            const result = await upgrade
            expect(result.ran).toBe(true)
            expect(result.finished.sort()).toEqual(queued)
          } finally {
            await holder.end()
          }

          const shape = await shapeOf()
          expectOurIndexes(shape)
          const invalid = await withClient(DB, async (client) =>
            (await client.query(
              `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE i.indrelid = 'workflow_execution'::regclass AND NOT (i.indisvalid AND i.indisready)`
            )).rows
          )
          expect(invalid).toEqual([])
          await expectCountsExact()
          // Done: the triggers are the plain ones again, and the function they read the boundary with is gone.
          expect(await functionsNow()).toEqual(OUR_FUNCTIONS)
          expect(await functionsReadingTasks()).toEqual([])
          expect((await engine.retrieveExecutionStorage()).total_executions).toBe((await countsNow()).live.reduce((n, c) => n + c.executions, 0))
          const after = await rowsNow()
          // Medusa's rows got the expiry Medusa would give them; the writer's rows (Medusa's engine, mid-deploy) wait for a purge pass.
          const original = new Set(rows.map((r) => r.id))
          expectExpiryBackfilled(after.filter((r) => original.has(r.id)))
          expect(await withClient(DB, (client) => client.query(`SELECT count(*)::int AS n FROM workflow_engine_upgrade_task`))).toMatchObject({ rows: [{ n: 0 }] })
          // Nothing left: the public method returns at once.
          expect((await engine.finishUpgrade()).finished).toEqual([])
        })

        it("rebuilds an index an interrupted CONCURRENTLY build left invalid", async () => {
          await prepare()
          expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })
          await withClient(DB, async (client) => {
            // What a cancelled build leaves: the index is there, Postgres does not use it.
            await client.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = '"IDX_workflow_execution_created_at"'::regclass`)
            await client.query(`INSERT INTO workflow_engine_upgrade_task (name) VALUES ('index:IDX_workflow_execution_created_at')`)
          })
          expect((await engine.finishUpgrade()).finished).toEqual(["index:IDX_workflow_execution_created_at"])
          const valid = await withClient(DB, async (client) =>
            (await client.query(`SELECT indisvalid FROM pg_index WHERE indexrelid = '"IDX_workflow_execution_created_at"'::regclass`)).rows
          )
          expect(valid).toEqual([{ indisvalid: true }])
          expectOurIndexes(await shapeOf())
        })

        it("counts the runs Medusa's engine wrote before our migrations exactly, leaving out the soft-deleted ones", async () => {
          const seed = medusaRowsWithSoftDeleted()
          await prepare(seed.all)
          const rowsBefore = await rowsNow()
          expect(rowsBefore.filter((r) => r.deleted_at !== null).map((r) => r.id).sort()).toEqual(
            [seed.softDeletedFailed.id, seed.softDeletedReverted.id].sort()
          )

          expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })
          expect(withoutExpiry(await rowsNow())).toEqual(rowsBefore)

          const { counted, live } = await countsNow()
          // Per workflow and state, the sum of its slots is the number of live rows, and nothing else is counted.
          expect(counted).toEqual(live)
          expect(counted).toEqual(liveCountsOf(seed.live))
          expect(counted).toEqual([
            { workflow_id: MEDUSA_WORKFLOW.payment, state: "failed", executions: 1 },
            { workflow_id: MEDUSA_WORKFLOW.payment, state: "reverted", executions: 1 },
            { workflow_id: MEDUSA_WORKFLOW.order, state: "done", executions: 2 },
            { workflow_id: MEDUSA_WORKFLOW.fulfillment, state: "invoking", executions: 1 },
          ])
          // Counted once, from the snapshot the migration read: one counter per workflow and state.
          const stored = await withClient(DB, async (client) => (await client.query(`SELECT * FROM workflow_execution_count`)).rows)
          expect(stored).toHaveLength(counted.length)

          // What the module counts for the admin's list is what the table holds.
          const [, total] = await engine.listAndCountWorkflowExecutions({})
          expect(total).toBe(seed.live.length)
          const [, failedPayments] = await engine.listAndCountWorkflowExecutions({
            workflow_id: MEDUSA_WORKFLOW.payment,
            state: "failed",
          } as any)
          expect(failedPayments).toBe(1)
          const [, revertedOrders] = await engine.listAndCountWorkflowExecutions({
            workflow_id: MEDUSA_WORKFLOW.order,
            state: "reverted",
          } as any)
          expect(revertedOrders).toBe(0)
        })

        it("keeps the counts exact whichever engine writes: inserts, upserts, state changes, soft deletes and restores, deletes, purges, truncate", async () => {
          const seed = medusaRowsWithSoftDeleted()
          await prepare(seed.all)
          expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })
          await expectCountsExact()
          const shipment = seed.live.find((r) => r.state === "invoking")!
          const [firstOrder, secondOrder, payment, refund] = seed.live

          // Our engine stores a run.
          await engine.run(WF.storedThreeSteps, { input: { value: 3 } })
          await expectCountsExact()

          await withClient(DB, async (client) => {
            // One statement inserting into several workflows and states, one row of it already soft-deleted.
            await client.query(
              `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, deleted_at)
               VALUES ('wf_exec_raw_1', $1, 'cart_raw_1', 'raw-run-1', 'done', NULL),
                      ('wf_exec_raw_2', $1, 'cart_raw_2', 'raw-run-2', 'done', NULL),
                      ('wf_exec_raw_3', $2, 'pay_raw_3', 'raw-run-3', 'invoking', NULL),
                      ('wf_exec_raw_4', $2, 'pay_raw_4', 'raw-run-4', 'failed', now())`,
              [MEDUSA_WORKFLOW.order, MEDUSA_WORKFLOW.payment]
            )
            await expectCountsExact()

            // Medusa's engine saves a checkpoint as an upsert on the primary key: the run it left in flight finishes.
            await client.query(
              `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, updated_at)
               VALUES ($1, $2, $3, $4, 'done', now())
               ON CONFLICT (workflow_id, transaction_id, run_id)
               DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
              [shipment.id, shipment.workflow_id, shipment.transaction_id, shipment.run_id]
            )
            // And a new run through the same upsert, which inserts.
            await client.query(
              `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state)
               VALUES ('wf_exec_raw_5', $1, 'ful_raw_5', 'raw-run-5', 'invoking')
               ON CONFLICT (workflow_id, transaction_id, run_id)
               DO UPDATE SET state = excluded.state`,
              [MEDUSA_WORKFLOW.fulfillment]
            )
            await expectCountsExact()

            // State changes, several rows in one statement; then one that changes nothing counted.
            await client.query(`UPDATE workflow_execution SET state = 'reverted' WHERE id IN ($1, 'wf_exec_raw_3')`, [payment.id])
            await client.query(`UPDATE workflow_execution SET context = '{"touched": true}'::jsonb, updated_at = now()`)
            await expectCountsExact()

            // A run moved to another workflow.
            await client.query(`UPDATE workflow_execution SET workflow_id = $1 WHERE id = 'wf_exec_raw_2'`, [MEDUSA_WORKFLOW.payment])
            await expectCountsExact()

            // Soft deletes: one alone, one changing its state in the same update; a soft-deleted run soft-deleted again.
            await client.query(`UPDATE workflow_execution SET deleted_at = now() WHERE id = $1`, [firstOrder.id])
            await client.query(`UPDATE workflow_execution SET deleted_at = now(), state = 'failed' WHERE id = $1`, [refund.id])
            await client.query(`UPDATE workflow_execution SET deleted_at = now() WHERE id = $1`, [seed.softDeletedFailed.id])
            await expectCountsExact()

            // A soft-deleted run restored, and one restored into another state.
            await client.query(`UPDATE workflow_execution SET deleted_at = NULL WHERE id = $1`, [seed.softDeletedReverted.id])
            await client.query(`UPDATE workflow_execution SET deleted_at = NULL, state = 'done' WHERE id = $1`, [refund.id])
            await expectCountsExact()

            // A transaction that rolls back moves no count.
            await client.query(`BEGIN`)
            await client.query(`DELETE FROM workflow_execution WHERE workflow_id = $1`, [MEDUSA_WORKFLOW.order])
            await client.query(`INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state)
                                VALUES ('wf_exec_rolled_back', 'rolled-back', 'tx', 'run', 'done')`)
            await client.query(`ROLLBACK`)
            await expectCountsExact()

            // One delete of live and soft-deleted runs of several workflows and states.
            await client.query(`DELETE FROM workflow_execution WHERE id IN ($1, $2, $3, 'wf_exec_raw_1', 'wf_exec_raw_4')`, [
              secondOrder.id,
              firstOrder.id,
              seed.softDeletedFailed.id,
            ])
            await expectCountsExact()
          })

          // Sessions of their own (so counters in other slots), at the same time, on the same workflow and state.
          await Promise.all(
            Array.from({ length: 6 }, (_, n) =>
              withClient(DB, async (client) => {
                await client.query(`BEGIN`)
                for (let i = 0; i < 3; i++) {
                  await client.query(
                    `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state)
                     VALUES ($1, $2, $3, 'concurrent', 'done')`,
                    [`wf_exec_concurrent_${n}_${i}`, MEDUSA_WORKFLOW.order, `cart_concurrent_${n}_${i}`]
                  )
                }
                await client.query(`DELETE FROM workflow_execution WHERE id = $1`, [`wf_exec_concurrent_${n}_0`])
                await client.query(`COMMIT`)
              })
            )
          )
          await expectCountsExact()
          // The order runs left before were all deleted: these are the six sessions' two each.
          expect((await countsNow()).live).toContainEqual({ workflow_id: MEDUSA_WORKFLOW.order, state: "done", executions: 12 })

          // Our engine's purge deletes the runs Medusa finished long ago, in batches.
          const purge = await engine.purgeExpiredExecutions({ batchSize: 1 })
          expect(purge.deleted).toBeGreaterThan(0)
          await expectCountsExact()

          // A truncate empties the counts with the table; counting starts over from there.
          await withClient(DB, (client) => client.query(`TRUNCATE workflow_execution`))
          expect(await countsNow()).toEqual({ counted: [], live: [] })
          await engine.run(WF.storedThreeSteps, { input: { value: 4 } })
          await withClient(DB, (client) => insertMedusaRows(client, medusaRows()))
          await expectCountsExact()
          const [, total] = await engine.listAndCountWorkflowExecutions({})
          expect(total).toBe(medusaRows().length + 1)
        })

        it("counts again, instead of adding to the counts, when the migration runs a second time", async () => {
          const seed = medusaRowsWithSoftDeleted()
          await prepare(seed.all)
          expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })
          const shape = await shapeOf()
          const tables = await tablesNow()

          // Writes after the first run, from several sessions, so the counts sit in several slots.
          await engine.run(WF.storedThreeSteps, { input: { value: 3 } })
          await Promise.all(
            Array.from({ length: 4 }, (_, n) =>
              withClient(DB, (client) =>
                client.query(
                  `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state)
                   VALUES ($1, $2, $3, 'again', 'failed')`,
                  [`wf_exec_again_${n}`, MEDUSA_WORKFLOW.payment, `pay_again_${n}`]
                )
              )
            )
          )
          await withClient(DB, (client) =>
            client.query(`UPDATE workflow_execution SET deleted_at = now() WHERE id = $1`, [seed.live[0].id])
          )
          await expectCountsExact()
          const { live } = await countsNow()

          for (let run = 0; run < 2; run++) {
            await forgetMigration(DB, OUR_COUNT_MIGRATION)
            expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({ executed: [OUR_COUNT_MIGRATION], warnings: [] })
            // The same counts, not twice (or three times) them; recounted, so no counter left at zero.
            expect(await countsNow()).toEqual({ counted: live, live })
            expect(await shapeOf()).toEqual(shape)
            expect(await tablesNow()).toEqual(tables)
            await expectCounters()
          }

          // The triggers, each there once, go on counting.
          await withClient(DB, (client) =>
            client.query(`DELETE FROM workflow_execution WHERE workflow_id = $1 AND state = 'failed'`, [MEDUSA_WORKFLOW.payment])
          )
          await expectCountsExact()
          expect((await countsNow()).live.some((c) => c.workflow_id === MEDUSA_WORKFLOW.payment && c.state === "failed")).toBe(false)
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

        it("gives the runs Medusa's engine finished their expiry; a purge then deletes exactly the expired ones", async () => {
          const medusa = await migrate(DB, MIGRATION_DIRS[kind])
          expect(medusa.executed).toEqual(migrationNames(MIGRATION_DIRS[kind]))
          const rows = medusaRowsAroundExpiry()
          await withClient(DB, (client) => insertMedusaRows(client, rows.all))
          const written = await rowsNow()
          expect(written).toHaveLength(rows.all.length)

          expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })

          const migrated = await rowsNow()
          expect(withoutExpiry(migrated)).toEqual(written)
          const retainedUntil = (row: MedusaRow) => Date.parse(row.updated_at) + row.retention_time! * 1000
          expect(Object.fromEntries(migrated.map((r) => [r.id, expiryOf(r)]))).toEqual({
            [rows.expiredDone.id]: retainedUntil(rows.expiredDone),
            [rows.expiredFailed.id]: retainedUntil(rows.expiredFailed),
            [rows.expiredReverted.id]: retainedUntil(rows.expiredReverted),
            [rows.recentDone.id]: retainedUntil(rows.recentDone),
            [rows.doneWithoutRetention.id]: null,
            // In flight for a month with a retention of an hour: it expires once it finishes, not before.
            [rows.longInFlight.id]: null,
          })

          const expired = [rows.expiredDone, rows.expiredFailed, rows.expiredReverted]
          const kept = [rows.recentDone, rows.doneWithoutRetention, rows.longInFlight]

          const preview = await engine.purgeExpiredExecutions({ dryRun: true, actor: "migration-compat" })
          expect(preview).toEqual(
            expect.objectContaining({ dry_run: true, deleted: 0, would_delete: expired.length, batches: 0 })
          )
          expect(await rowsNow()).toEqual(migrated)

          // Batches of two: a full one, then a short one that ends the pass.
          const purge = await engine.purgeExpiredExecutions({ batchSize: 2, actor: "migration-compat" })
          expect(purge).toEqual({
            id: expect.stringMatching(/^wf_purge_/),
            dry_run: false,
            deleted: preview.would_delete,
            batches: 2,
            duration_ms: expect.any(Number),
            longest_batch_ms: expect.any(Number),
            // The oldest run kept, as the module reads its created_at.
            oldest_remaining: (await engine.retrieveWorkflowExecution(rows.doneWithoutRetention.id)).created_at,
          })
          const keptIds = new Set(kept.map((r) => r.id))
          expect(await rowsNow()).toEqual(migrated.filter((r) => keptIds.has(r.id)))
          for (const row of expired) {
            await expect(engine.retrieveWorkflowExecution(row.id)).rejects.toThrow(/was not found/)
          }

          const trail = await engine.listWorkflowExecutionPurges()
          expect(trail).toHaveLength(2)
          const entry = (id: string) => trail.find((e) => e.id === id)
          expect(entry(preview.id)).toEqual(
            expect.objectContaining({
              trigger: "manual",
              actor: "migration-compat",
              dry_run: true,
              // On a dry run the audit trail's `deleted` is what would have been deleted.
              deleted: expired.length,
              batches: 0,
              transaction_ids: null,
              error: null,
            })
          )
          expect(entry(purge.id)).toEqual(
            expect.objectContaining({
              trigger: "manual",
              actor: "migration-compat",
              dry_run: false,
              deleted: expired.length,
              batches: 2,
              transaction_ids: null,
              error: null,
            })
          )

          // Nothing expired is left.
          expect(await engine.purgeExpiredExecutions({ dryRun: true })).toEqual(expect.objectContaining({ would_delete: 0 }))
        })

        it("before the online upgrade, deletes exactly what a purge deletes after it, fills in no expiry, shares the work between two purges at once, and reports the upgrade pending", async () => {
          const rows = medusaRowsAroundExpiry()
          await prepare(rows.all)
          expect(await migrate(DB, MIGRATION_DIRS.ours, { online: false, inlineMaxRows: 0 })).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })
          const queued = await queuedTasks()

          // Since the switch: a run this engine finished (its own expiry), an expiry set by hand far
          // ahead of Medusa's rule (a legal hold), and one set by hand already past while Medusa's rule is not.
          const { transaction } = await engine.run(WF.storedThreeSteps, { input: { value: 3 } })
          await withClient(DB, async (client) => {
            await client.query(`UPDATE workflow_execution SET expires_at = '2099-01-01T00:00:00Z' WHERE id = $1`, [rows.expiredFailed.id])
            await client.query(`UPDATE workflow_execution SET expires_at = now() - interval '1 minute' WHERE id = $1`, [rows.recentDone.id])
          })
          const expired = [rows.expiredDone, rows.expiredReverted, rows.recentDone]
          const withExpiry = async () =>
            (await rowsNow()).filter((r) => r.expires_at !== null).map((r) => r.id).sort()
          const expiriesBefore = await withExpiry()
          expect(expiriesBefore).toHaveLength(3)

          const storage = await engine.retrieveExecutionStorage()
          expect(storage.upgrade).toEqual({ tasks: queued, queued_at: expect.any(Date) })
          expect(storage.expired).toEqual({ executions: expired.length, capped: false })
          expect(storage.total_executions).toBe(rows.all.length + 1)
          expect((await engine.purgeExpiredExecutions({ dryRun: true })).would_delete).toBe(expired.length)
          // The execution panel tells when an old row goes by the same rule.
          expect(await engine.retrieveExecutionRetention(rows.expiredDone.id)).toEqual(
            expect.objectContaining({ expires_at: new Date(Date.parse(rows.expiredDone.updated_at) + 3600 * 1000), expired: true })
          )
          expect(await engine.retrieveExecutionRetention(rows.longInFlight.id)).toEqual(
            expect.objectContaining({ expires_at: null, expired: false })
          )

          // maxRows stops a pass; then one row a batch, two passes at once: each row goes once, whichever pass locked it.
          expect((await engine.purgeExpiredExecutions({ maxRows: 1 })).deleted).toBe(1)
          const passes = await Promise.all([
            engine.purgeExpiredExecutions({ batchSize: 1 }),
            engine.purgeExpiredExecutions({ batchSize: 1 }),
          ])
          expect(passes[0].deleted + passes[1].deleted).toBe(expired.length - 1)
          const gone = new Set(expired.map((r) => r.id))
          expect((await rowsNow()).map((r) => r.id).sort()).toEqual(
            [...rows.all.filter((r) => !gone.has(r.id)).map((r) => r.id), (await engine.listWorkflowExecutions({ transaction_id: transaction.transactionId }))[0].id].sort()
          )
          // Nothing filled in, nothing of the upgrade done.
          expect(await withExpiry()).toEqual(expiriesBefore.filter((id) => !gone.has(id)))
          expect(await queuedTasks()).toEqual(queued)

          // Once the upgrade is done, its purge finds nothing more: the same rows were the expired ones.
          await engine.finishUpgrade()
          expect((await engine.retrieveExecutionStorage()).upgrade).toBeNull()
          expect((await engine.purgeExpiredExecutions({})).deleted).toBe(0)
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
          expect(after.indexes[name]).toBe(REDUNDANT_INDEXES.includes(name) ? undefined : before.indexes[name])
        }
        expectOurIndexes(after)
        expect(duplicateIndexes(after.indexes)).toEqual([])

        await expectRetentionTables()
        await expectCounters()
        // The old rows are counted by workflow and state like any others.
        expect((await countsNow()).counted).toEqual(liveCountsOf(legacyRows()))

        // Every column the rows had is untouched; each row is one run of its own.
        const rowsAfter = await rowsNow()
        expect(withoutExpiry(rowsAfter).map(({ run_id, retention_time, ...rest }) => rest)).toEqual(rowsBefore)
        // The retention filled from the workflow options gives the finished runs their expiry.
        expectExpiryBackfilled(rowsAfter)
        expect(rowsAfter.filter((r) => r.expires_at !== null)).toHaveLength(3)
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
        expect(ours.executed).toEqual(OUR_MIGRATIONS)
        expect(ours.warnings).toEqual([IN_FLIGHT_WARNING])

        const rowsAfter = await rowsNow()
        expect(withoutExpiry(rowsAfter)).toEqual(rowsBefore)
        expectExpiryBackfilled(rowsAfter)
        const after = await shapeOf()
        expect(Object.keys(after.indexes)).not.toContain("IDX_workflow_execution_in_flight_unique")
        expect(Object.keys(after.indexes)).toContain("IDX_workflow_execution_created_at")
        expect(Object.keys(after.indexes).filter((n) => !(n in before.indexes)).sort()).toEqual(
          ourIndexes().filter((name) => name !== "IDX_workflow_execution_in_flight_unique")
        )
        expect(withoutExpiryColumn(after.columns)).toEqual(before.columns)
        expectExpiryColumn(after)
        expect(after.primaryKey).toEqual(before.primaryKey)
        // The skipped guard holds neither of the later migrations back; both runs in flight are counted.
        await expectRetentionTables()
        await expectCounters()
        expect((await countsNow()).counted).toEqual(liveCountsOf(all))

        // All four migrations are recorded as done, and both runs read back.
        expect((await recordedMigrations()).filter((name) => OUR_MIGRATIONS.includes(name))).toEqual(OUR_MIGRATIONS)
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
      it("changes nothing when they run a second time on a table Medusa created", async () => {
        await migrate(DB, MIGRATION_DIRS.inmemory)
        await withClient(DB, (client) => insertMedusaRows(client, medusaRows()))
        await migrate(DB, MIGRATION_DIRS.ours)
        const shape = await shapeOf()
        const tables = await tablesNow()
        const rows = await rowsNow()
        // The audit trail has an entry the second run must keep.
        await engine.purgeExpiredExecutions({ dryRun: true, actor: "before-rerun" })
        const trail = await engine.listWorkflowExecutionPurges()
        expect(trail).toHaveLength(1)

        for (const name of OUR_MIGRATIONS) {
          await forgetMigration(DB, name)
        }
        expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })

        expect(await shapeOf()).toEqual(shape)
        expect(await tablesNow()).toEqual(tables)
        await expectRetentionTables()
        await expectCounters()
        expect(await rowsNow()).toEqual(rows)
        expect(await engine.listWorkflowExecutionPurges()).toEqual(trail)
        expect((await countsNow()).counted).toEqual(liveCountsOf(medusaRows()))
      })

      it("creates the tables on an empty database, and changes nothing when they run a second time", async () => {
        expect(await migrate(DB, MIGRATION_DIRS.ours, { online: false })).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })
        // An empty table needs no online part: nothing is queued, no background upgrade runs.
        expect(await queuedTasks()).toEqual([])
        const shape = await shapeOf()
        expect(Object.keys(shape.columns)).toEqual([
          "id", "workflow_id", "transaction_id", "run_id", "execution", "context",
          "state", "retention_time", "created_at", "updated_at", "deleted_at", "expires_at", "owner_instance_id",
          "owner_epoch", "awaited_steps",
        ])
        expectExpiryColumn(shape)
        await expectRetentionTables()
        await expectCounters()
        expect(await tablesNow()).toEqual(["mikro_orm_migrations", "workflow_execution", ...OUR_TABLES].sort())
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
        expect((await countsNow()).live).toEqual([{ workflow_id: WF.storedThreeSteps, state: "done", executions: 1 }])

        for (const name of OUR_MIGRATIONS) {
          await forgetMigration(DB, name)
        }
        expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })
        expect(await shapeOf()).toEqual(shape)
        expect(await rowsNow()).toEqual(rows)
        // Counted again from the rows: the counter left at zero is gone.
        expect((await countsNow()).counted).toEqual([{ workflow_id: WF.storedThreeSteps, state: "done", executions: 1 }])

        // Medusa's engines still apply on top of ours: the store can switch back, and its writes are counted.
        expect((await migrate(DB, MIGRATION_DIRS.inmemory)).executed).toEqual(migrationNames(MIGRATION_DIRS.inmemory))
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
        expect((await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_FIRST_MIGRATION })).executed).toEqual([OUR_FIRST_MIGRATION])
        const firstShape = await shapeOf()
        const firstRows = await rowsNow()
        expect(firstRows).toEqual(medusaRowsStored)

        // As the second one leaves it.
        expect((await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_RETENTION_MIGRATION })).executed).toEqual([OUR_RETENTION_MIGRATION])
        const retentionShape = await shapeOf()
        const retentionTables = await tablesNow()
        const retentionRows = await rowsNow()
        expect(retentionShape.triggers).toEqual({})

        expect((await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_COUNT_MIGRATION })).executed).toEqual([OUR_COUNT_MIGRATION])
        const countShape = await shapeOf()
        const countRows = await rowsNow()

        expect((await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_STORAGE_MIGRATION })).executed).toEqual([OUR_STORAGE_MIGRATION])
        const storageShape = await shapeOf()
        const storageTables = await tablesNow()
        const storageRows = await rowsNow()

        expect((await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_CLUSTER_MIGRATION })).executed).toEqual([OUR_CLUSTER_MIGRATION])
        const clusterShape = await shapeOf()
        const clusterTables = await tablesNow()
        const clusterRows = await rowsNow()

        expect((await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_LEAN_INDEX_MIGRATION })).executed).toEqual([OUR_LEAN_INDEX_MIGRATION])
        const leanShape = await shapeOf()
        const leanTables = await tablesNow()
        const leanRows = await rowsNow()
        expect(leanTables).toContain(PURGE_SCHEDULE_TABLE)
        await expectPurgeScheduleTable()

        expect((await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_FINISH_MIGRATION })).executed).toEqual([OUR_FINISH_MIGRATION])
        const finishShape = await shapeOf()
        const finishTables = await tablesNow()
        expect(finishTables).toEqual([...leanTables, FINISH_TABLE].sort())

        expect((await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_PURGE_SCHEDULE_DROP_MIGRATION })).executed).toEqual([
          OUR_PURGE_SCHEDULE_DROP_MIGRATION,
        ])
        const droppedShape = await shapeOf()
        const droppedRows = await rowsNow()
        expect(await tablesNow()).toEqual(finishTables.filter((table) => table !== PURGE_SCHEDULE_TABLE))

        expect((await migrate(DB, MIGRATION_DIRS.ours, { to: OUR_FENCING_MIGRATION })).executed).toEqual([OUR_FENCING_MIGRATION])
        // Every row there starts at epoch 0, nothing else changes.
        const fencedShape = await shapeOf()
        const fencedRows = await rowsNow()
        expect(fencedRows).toEqual(droppedRows.map((row: StoredRow) => ({ ...row, owner_epoch: 0 })))

        expect((await migrate(DB, MIGRATION_DIRS.ours)).executed).toEqual([OUR_AWAITED_MIGRATION])
        // The rows there do not say which handlers returned (NULL, "not known"), nothing else changes.
        expect(await rowsNow()).toEqual(fencedRows.map((row: StoredRow) => ({ ...row, awaited_steps: null })))
        await engine.purgeExpiredExecutions({ dryRun: true })
        await expectCounters()
        const extensions = await extensionsNow()
        const leanIndexes = Object.keys((await shapeOf()).indexes)
        expect(leanIndexes.filter((name) => REDUNDANT_INDEXES.includes(name))).toEqual([])

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
        expect(eighth).toEqual({ executed: [OUR_PURGE_SCHEDULE_DROP_MIGRATION], warnings: [] })
        expect(await shapeOf()).toEqual(finishShape)
        expect(await tablesNow()).toEqual(finishTables)
        await expectPurgeScheduleTable()

        // The seventh one's down(): the log of finishes goes, nothing else.
        const seventh = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
        expect(seventh).toEqual({ executed: [OUR_FINISH_MIGRATION], warnings: [] })
        expect(await shapeOf()).toEqual(leanShape)
        expect(await tablesNow()).toEqual(leanTables)
        expect(await rowsNow()).toEqual(leanRows)

        // The sixth one's down(): the four indexes come back, nothing else.
        const sixth = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
        expect(sixth).toEqual({ executed: [OUR_LEAN_INDEX_MIGRATION], warnings: [] })
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
        expect(fourth).toEqual({ executed: [OUR_STORAGE_MIGRATION], warnings: [] })
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
        await expectRetentionTables()

        // The second one's down(): expires_at, its index and the two tables go; the rows stay.
        const second = await migrate(DB, MIGRATION_DIRS.ours, { down: true })
        expect(second).toEqual({ executed: [OUR_RETENTION_MIGRATION], warnings: [] })
        expect(await shapeOf()).toEqual(firstShape)
        expect(await tablesNow()).toEqual([...medusaTables, UPGRADE_TASK_TABLE].sort())
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
        expect(await recordedMigrations()).toEqual(migrationNames(MIGRATION_DIRS.inmemory))

        // The module still reads the history after the revert, apart from what it reads
        // through the counters, which went with the third migration.
        await expectModuleReads(rows)
      })
    })

    describe("during a rolling deploy", () => {
      it("run again after instances still on Medusa's engine wrote finished runs, fills only the missing expiries", async () => {
        await migrate(DB, MIGRATION_DIRS.inmemory)
        const original = medusaRows()
        await withClient(DB, (client) => insertMedusaRows(client, original))
        expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })

        // A run our engine finished, with the expiry it set itself.
        await engine.run(WF.storedThreeSteps, { input: { value: 3 } })
        // An expiry set otherwise than updated_at + retention_time (extended by hand, say, for a legal hold).
        const refund = original.find((r) => r.transaction_id === "pay_01KAWREFUND")!
        await withClient(DB, (client) =>
          client.query(`UPDATE workflow_execution SET expires_at = '2099-01-01T00:00:00Z' WHERE id = $1`, [refund.id])
        )

        // Meanwhile instances still on Medusa's engine write new runs, and the
        // run Medusa left waiting finishes on one of them: Medusa's engine
        // upserts its row without knowing expires_at.
        const later = medusaRowsDuringDeploy()
        const shipment = original.find((r) => r.state === "invoking")!
        await withClient(DB, async (client) => {
          await insertMedusaRows(client, later.all)
          await client.query(
            `UPDATE workflow_execution
                SET state = 'done', retention_time = 3600, updated_at = now(),
                    execution = jsonb_set(execution, '{state}', '"done"')
              WHERE id = $1`,
            [shipment.id]
          )
        })

        // Counted as they are written, by whichever engine writes them.
        await expectCountsExact()

        const before = await rowsNow()
        const shape = await shapeOf()
        const missing = before.filter((r) => r.expires_at === null)
        expect(missing.map((r) => r.id).sort()).toEqual(
          [shipment.id, later.finishedDone.id, later.finishedFailed.id, later.inFlight.id].sort()
        )
        // Medusa's four finished runs (filled by the first pass) and our engine's run.
        const set = before.filter((r) => r.expires_at !== null)
        expect(set).toHaveLength(5)
        expect(expiryOf(set.find((r) => r.id === refund.id)!)).toBe(Date.parse("2099-01-01T00:00:00Z"))

        await forgetMigration(DB, OUR_RETENTION_MIGRATION)
        expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({ executed: [OUR_RETENTION_MIGRATION], warnings: [] })

        const after = await rowsNow()
        expect(withoutExpiry(after)).toEqual(withoutExpiry(before))
        // The expiries already set are left as they were.
        const setIds = new Set(set.map((r) => r.id))
        expect(after.filter((r) => setIds.has(r.id))).toEqual(set)
        // The missing ones are filled as Medusa's engine would expire them; the run in flight stays without.
        const shipmentAfter = after.find((r) => r.id === shipment.id)!
        expect(Object.fromEntries(after.filter((r) => !setIds.has(r.id)).map((r) => [r.id, expiryOf(r)]))).toEqual({
          [shipment.id]: instant(shipmentAfter.updated_at) + 3600 * 1000,
          [later.finishedDone.id]: Date.parse(later.finishedDone.updated_at) + 3600 * 1000,
          [later.finishedFailed.id]: Date.parse(later.finishedFailed.updated_at) + 86400 * 1000,
          [later.inFlight.id]: null,
        })
        expect(await shapeOf()).toEqual(shape)
        await expectRetentionTables()
        await expectCountsExact()
      })
    })
  }),
})
