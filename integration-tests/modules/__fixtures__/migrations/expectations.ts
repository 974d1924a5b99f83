import fs from "fs"
import { TEST_DATABASE } from "../engine"
import { MedusaRow } from "./medusa-rows"
import {
  ExecutionCount,
  executionCounts,
  extensionNames,
  functionNames,
  snapshotRows,
  sortCounts,
  tableNames,
  tableShape,
  TableShape,
  trigramsAvailable,
  withClient,
} from "./database"

/*
 * What the migration specs expect of the schema and the rows our migrations
 * leave, and the readers they check it with, all on DB.
 */

// One per checkout, as TEST_DATABASE.
export const DB = `medusa-wep-migration-compat-${TEST_DATABASE.slice("medusa-wep-test-".length)}`

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
/** Reads, once before the tests, whether this server ships pg_trgm. */
export async function detectTrigrams(): Promise<void> {
  trigrams = await trigramsAvailable(DB)
}
/** The fourth migration's index. */
const KEPT_FOREVER_INDEX = "IDX_workflow_execution_kept_forever"
/** The eleventh migration's index: the runs reported stuck. */
const STUCK_INDEX = "IDX_workflow_execution_stuck_at"
/** Every index our migrations add to `workflow_execution`, by name: the four above, the third one's, the fourth's and the eleventh's. */
export function ourIndexes(): string[] {
  return [
    ...FIRST_AND_RETENTION_INDEXES,
    ...(trigrams ? [TRIGRAM_INDEX] : []),
    "IDX_workflow_execution_workflow_id_state_created_at",
    KEPT_FOREVER_INDEX,
    STUCK_INDEX,
    RESOURCE_IDS_INDEX,
  ].sort()
}
/** The index the eleventh migration adds: a commerce object's runs. */
const RESOURCE_IDS_INDEX = "IDX_workflow_execution_resource_ids"
/** The table the second migration adds and the seventh keeps. */
const RETENTION_TABLES = ["workflow_execution_purge"]
/** The table the thirteenth migration adds: the bulk action audit trail. */
export const BULK_ACTION_TABLE = "workflow_execution_bulk_action"
/** The table the second migration adds and the seventh drops. */
export const PURGE_SCHEDULE_TABLE = "workflow_execution_purge_schedule"
/** The table the third migration adds. */
const COUNT_TABLE = "workflow_execution_count"
/** The tables the fifth migration adds: what many instances share. */
const CLUSTER_TABLES = [
  "workflow_engine_instance",
  "workflow_engine_schedule",
  "workflow_execution_timer",
]
/** The table the seventh migration adds: finishes, for instances that cannot LISTEN. */
export const FINISH_TABLE = "workflow_engine_finish"
/** The table the eleventh migration adds: the run events' outbox. */
export const EVENT_TABLE = "workflow_engine_event"
/** The table the first migration adds: the work it and the others leave to the online upgrade. */
export const UPGRADE_TASK_TABLE = "workflow_engine_upgrade_task"
/** Every table our migrations add, by name. */
export const OUR_TABLES = [
  ...CLUSTER_TABLES,
  FINISH_TABLE,
  EVENT_TABLE,
  COUNT_TABLE,
  ...RETENTION_TABLES,
  UPGRADE_TASK_TABLE,
  BULK_ACTION_TABLE,
].sort()
/** The triggers the third migration puts on `workflow_execution`, and the functions they run. */
export const OUR_TRIGGERS = [
  "workflow_execution_count_delete",
  "workflow_execution_count_insert",
  "workflow_execution_count_truncate",
  "workflow_execution_count_update",
]
export const OUR_FUNCTIONS = [
  "workflow_execution_count_rows",
  "workflow_execution_count_truncate",
  "workflow_execution_count_update",
]
const FINISHED_STATES = ["done", "failed", "reverted"]
export const IN_FLIGHT_WARNING =
  "WARNING: workflow_execution holds several in-flight runs of one transaction; IDX_workflow_execution_in_flight_unique was not created"

/** Migration names of a directory, as the migrator records them. */
export function migrationNames(directory: string): string[] {
  return fs
    .readdirSync(directory)
    .filter((file) => /^Migration\d+\.js$/.test(file))
    .map((file) => file.replace(/\.js$/, ""))
    .sort()
}

export const shapeOf = () => withClient(DB, (client) => tableShape(client))
export const rowsNow = (): Promise<StoredRow[]> => withClient(DB, snapshotRows)
export const tablesNow = () => withClient(DB, tableNames)
export const functionsNow = () => withClient(DB, functionNames)
export const extensionsNow = () => withClient(DB, extensionNames)
export const countsNow = () => withClient(DB, executionCounts)
/** Our functions that read the table of upgrade tasks, themselves or through workflow_execution_counted_through: the count triggers' while the online upgrade counts. */
export const functionsReadingTasks = () =>
  withClient(DB, async (client) =>
    (
      await client.query(
        `SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND (prosrc LIKE '%workflow_engine_upgrade_task%' OR prosrc LIKE '%workflow_execution_counted_through%') ORDER BY proname`
      )
    ).rows.map((r) => r.proname)
  )
/** What the migrations left to the online upgrade, by name. */
export const queuedTasks = () =>
  withClient(DB, async (client) =>
    (
      await client.query(
        `SELECT name FROM workflow_engine_upgrade_task ORDER BY name`
      )
    ).rows.map((r) => r.name)
  )

export type StoredRow = Record<string, any>

/** Stored rows without the columns our second, fifth, ninth, tenth and eleventh migrations add: what Medusa's engines wrote. */
export function withoutExpiry(rows: StoredRow[]): StoredRow[] {
  return rows.map(
    ({
      expires_at: _,
      owner_instance_id: __,
      owner_epoch: ___,
      awaited_steps: ____,
      stuck_at: _____,
      resource_ids: ______,
      ...rest
    }) => withoutKept(rest)
  )
}

/** The columns the thirteenth migration adds (who keeps a run from the purge), left out. */
export function withoutKept<T extends Record<string, unknown>>(row: T): T {
  const {
    kept_at: _,
    kept_by: __,
    kept_reason: ___,
    kept_expires_at: ____,
    ...rest
  } = row
  return rest as T
}

/**
 * A stored timestamp in epoch milliseconds. Medusa's tables keep
 * created_at/updated_at without a time zone, in UTC (the test database's
 * sessions run in UTC, see ensureDatabase): read them as UTC, whatever the
 * zone of the process running the tests.
 */
export function instant(stored: string): number {
  return Date.parse(
    /(Z|[+-]\d\d(:\d\d)?)$/.test(stored) ? stored : `${stored}Z`
  )
}

/** A stored expiry in epoch milliseconds, or null. */
export function expiryOf(row: StoredRow): number | null {
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
export function expectExpiryBackfilled(rows: StoredRow[]) {
  expect(rows.map((row) => [row.id, expiryOf(row)])).toEqual(
    rows.map((row) => [row.id, medusaExpiry(row)])
  )
}

/** What the module returns for a stored row. */
export function asRead(row: MedusaRow) {
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
 * The columns the second, fifth, ninth, tenth and eleventh migrations add, the last
 * ones of the table: optional and without a default, but the epoch (0 for
 * the rows already there, so that adding it rewrites nothing).
 */
export function expectExpiryColumn(shape: TableShape) {
  expect(shape.columns.expires_at).toEqual({
    type: "timestamp with time zone",
    nullable: true,
    default: null,
  })
  expect(shape.columns.owner_instance_id).toEqual({
    type: "text",
    nullable: true,
    default: null,
  })
  expect(shape.columns.owner_epoch).toEqual({
    type: "integer",
    nullable: false,
    default: "0",
  })
  expect(shape.columns.awaited_steps).toEqual({
    type: "ARRAY",
    nullable: true,
    default: null,
  })
  expect(shape.columns.stuck_at).toEqual({
    type: "timestamp with time zone",
    nullable: true,
    default: null,
  })
  expect(shape.columns.resource_ids).toEqual({
    type: "ARRAY",
    nullable: true,
    default: null,
  })
  for (const kept of ["kept_at", "kept_expires_at"]) {
    expect(shape.columns[kept]).toEqual({
      type: "timestamp with time zone",
      nullable: true,
      default: null,
    })
  }
  expect(Object.keys(shape.columns).slice(-10)).toEqual([
    "expires_at",
    "owner_instance_id",
    "owner_epoch",
    "awaited_steps",
    "stuck_at",
    "resource_ids",
    ...KEPT_COLUMNS,
  ])
}

/** Columns apart from the ones our migrations add. */
export function withoutExpiryColumn(
  columns: TableShape["columns"]
): TableShape["columns"] {
  const {
    expires_at: _,
    owner_instance_id: __,
    owner_epoch: ___,
    awaited_steps: ____,
    stuck_at: _____,
    resource_ids: ______,
    ...rest
  } = columns
  return withoutKept(rest)
}

/** The columns the thirteenth migration adds to workflow_execution, in their order. */
export const KEPT_COLUMNS = [
  "kept_at",
  "kept_by",
  "kept_reason",
  "kept_expires_at",
]

export function expectOurIndexes(shape: TableShape) {
  expect(
    shape.indexes["IDX_workflow_execution_workflow_id_state_created_at"]
  ).toMatch(
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
  for (const state of [
    "not_started",
    "invoking",
    "waiting_to_compensate",
    "compensating",
  ]) {
    expect(inFlight).toContain(`'${state}'`)
  }
  for (const state of ["done", "failed", "reverted"]) {
    expect(inFlight).not.toContain(`'${state}'`)
  }
}

/** The audit trail, as the second migration creates it. */
export async function expectRetentionTables(purgeHasSkippedKept = true) {
  const tables = await tablesNow()
  for (const table of RETENTION_TABLES) {
    expect(tables).toContain(table)
  }

  const purge = await withClient(DB, (client) =>
    tableShape(client, "workflow_execution_purge")
  )
  const column = (
    type: string,
    nullable: boolean,
    defaultValue: string | null = null
  ) => ({
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
    // Added by the thirteenth migration.
    ...(purgeHasSkippedKept
      ? { skipped_kept: column("integer", false, "0") }
      : {}),
    created_at: column("timestamp with time zone", false, "now()"),
    updated_at: column("timestamp with time zone", false, "now()"),
    deleted_at: column("timestamp with time zone", true),
  })
  expect(purge.primaryKey).toEqual({
    name: "workflow_execution_purge_pkey",
    columns: ["id"],
  })
  expect(Object.keys(purge.indexes).sort()).toEqual([
    "IDX_workflow_execution_purge_created_at",
    "workflow_execution_purge_pkey",
  ])
  expect(purge.indexes["IDX_workflow_execution_purge_created_at"]).toMatch(
    /ON public\.workflow_execution_purge USING btree \(created_at DESC\) WHERE \(deleted_at IS NULL\)/
  )
}

/** The table of the scheduled purge as the second migration creates it (and the seventh's down() puts it back). */
export async function expectPurgeScheduleTable() {
  const schedule = await withClient(DB, (client) =>
    tableShape(client, PURGE_SCHEDULE_TABLE)
  )
  expect(schedule.columns).toEqual({
    name: { type: "text", nullable: false, default: null },
    next_run_at: {
      type: "timestamp with time zone",
      nullable: false,
      default: null,
    },
  })
  expect(schedule.primaryKey).toEqual({
    name: "workflow_execution_purge_schedule_pkey",
    columns: ["name"],
  })
  expect(Object.keys(schedule.indexes)).toEqual([
    "workflow_execution_purge_schedule_pkey",
  ])
}

/**
 * The counters as the third migration makes them: the table, the four
 * triggers on `workflow_execution` (inserts and deletes counted per
 * statement from their transition tables, updates per row and only when
 * they change what is counted, truncate clearing the counts) and the three
 * functions they run; with pg_trgm, when the server ships it.
 */
export async function expectCounters() {
  expect(await tablesNow()).toContain(COUNT_TABLE)
  const counts = await withClient(DB, (client) =>
    tableShape(client, COUNT_TABLE)
  )
  expect(counts).toEqual({
    columns: {
      workflow_id: { type: "text", nullable: false, default: null },
      state: { type: "text", nullable: false, default: null },
      slot: { type: "smallint", nullable: false, default: null },
      executions: { type: "bigint", nullable: false, default: null },
    },
    primaryKey: {
      name: "workflow_execution_count_pkey",
      columns: ["workflow_id", "state", "slot"],
    },
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
  const when = triggers.workflow_execution_count_update.match(
    /WHEN \((.*)\) EXECUTE/
  )![1]
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
export function liveCountsOf(rows: MedusaRow[]): ExecutionCount[] {
  const counts = new Map<string, ExecutionCount>()
  for (const row of rows.filter((r) => !r.deleted_at)) {
    const key = `${row.workflow_id}|${row.state}`
    const count = counts.get(key) ?? {
      workflow_id: row.workflow_id,
      state: row.state,
      executions: 0,
    }
    counts.set(key, { ...count, executions: count.executions + 1 })
  }
  return sortCounts([...counts.values()])
}

/**
 * The counters, summed over their slots, give every workflow and state
 * exactly its live runs. A workflow and state whose runs are all gone may
 * keep counters that add up to zero, and nothing else.
 */
export async function expectCountsExact() {
  const { counted, live } = await countsNow()
  expect(counted.filter((c) => c.executions !== 0)).toEqual(live)
}

/** Names MikroORM recorded as run, in order. */
export async function recordedMigrations(): Promise<string[]> {
  return await withClient(DB, async (client) => {
    const { rows } = await client.query(
      `SELECT name FROM mikro_orm_migrations ORDER BY name`
    )
    return rows.map((r) => r.name)
  })
}
