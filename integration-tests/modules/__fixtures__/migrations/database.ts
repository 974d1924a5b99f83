import {
  MikroORM,
  defineConfig,
} from "@medusajs/framework/mikro-orm/postgresql"
import { CustomDBMigrator } from "@medusajs/framework/utils"
import { TestDatabaseUtils } from "@medusajs/test-utils"
import path from "path"
import { Client } from "pg"
import { runOnlineUpgrade } from "../../../../src/modules/workflow-engine/upgrade/online-upgrade"
import { INLINE_UPGRADE_MAX_ROWS_SETTING } from "../../../../src/modules/workflow-engine/migrations/frozen/upgrade-task-queue"

const { getDatabaseURL } = TestDatabaseUtils

/** Where each engine keeps its migrations, resolved from the installed packages. */
export const MIGRATION_DIRS = {
  inmemory: path.join(
    path.dirname(require.resolve("@medusajs/workflow-engine-inmemory")),
    "migrations"
  ),
  redis: path.join(
    path.dirname(require.resolve("@medusajs/workflow-engine-redis")),
    "migrations"
  ),
  ours: path.join(
    __dirname,
    "../../../../src/modules/workflow-engine/migrations"
  ),
}

/**
 * Our migrations, as MikroORM records them in mikro_orm_migrations: the first
 * creates or aligns `workflow_execution`, the second adds retention (the
 * `expires_at` column, its index, the purge audit trail and schedule tables),
 * the third adds what listing at scale reads (the `workflow_execution_count`
 * table, the triggers on `workflow_execution` that keep it exact and its
 * backfill, an index on workflow, state and created_at, and, where pg_trgm
 * can be created, the extension and a trigram index on transaction_id), the
 * fourth the partial index of finished runs kept forever, the fifth what many
 * instances share (instance leases, timers, schedules, and the owner of each
 * in-flight run), the sixth drops four indexes, the seventh adds the log of
 * finishes instances that cannot LISTEN read, the eighth drops the table of
 * the scheduled purge that nothing writes any more, the ninth adds the
 * fencing epoch, the tenth the async steps whose handler returned, the
 * eleventh the outbox of run events and the stuck mark.
 */
export const OUR_FIRST_MIGRATION = "Migration20261125120000"
export const OUR_RETENTION_MIGRATION = "Migration20261125140000"
export const OUR_COUNT_MIGRATION = "Migration20261126090000"
/** The fourth: the index of finished runs kept forever, which the admin's storage card counts. */
export const OUR_STORAGE_MIGRATION = "Migration20261201200000"
/** The fifth: instance leases, timers, schedules and the owner column. */
export const OUR_CLUSTER_MIGRATION = "Migration20261201210000"
/** The sixth: drops four indexes that cost every write and serve no query the primary key does not. */
export const OUR_LEAN_INDEX_MIGRATION = "Migration20261202090000"
/** The seventh: workflow_engine_finish, the finishes that instances which cannot LISTEN read. */
export const OUR_FINISH_MIGRATION = "Migration20261206100000"
/** The eighth: drops workflow_execution_purge_schedule, unused since the purge became a cluster schedule. */
export const OUR_PURGE_SCHEDULE_DROP_MIGRATION = "Migration20261206120000"
/** The ninth: the fencing epoch of runs in flight. */
export const OUR_FENCING_MIGRATION = "Migration20261206130000"
/** The tenth: awaited_steps, the async steps whose handler returned (recovery reads them). */
export const OUR_AWAITED_MIGRATION = "Migration20261206140000"
/** The eleventh: workflow_engine_event (the run events' outbox) and stuck_at (events/). */
export const OUR_EVENTS_MIGRATION = "Migration20261207100000"
/** The twelfth: resource_ids, the commerce ids in a run's input, back-filled by the online upgrade. */
export const OUR_RESOURCE_MIGRATION = "Migration20261207110000"
/** The thirteenth: keeping a run from the purge (kept_* columns), skipped_kept on purges, the bulk action audit table. */
export const OUR_KEEP_MIGRATION = "Migration20261207120000"
/** In the order the migrator applies them. */
export const OUR_MIGRATIONS = [
  OUR_FIRST_MIGRATION,
  OUR_RETENTION_MIGRATION,
  OUR_COUNT_MIGRATION,
  OUR_STORAGE_MIGRATION,
  OUR_CLUSTER_MIGRATION,
  OUR_LEAN_INDEX_MIGRATION,
  OUR_FINISH_MIGRATION,
  OUR_PURGE_SCHEDULE_DROP_MIGRATION,
  OUR_FENCING_MIGRATION,
  OUR_AWAITED_MIGRATION,
  OUR_EVENTS_MIGRATION,
  OUR_RESOURCE_MIGRATION,
  OUR_KEEP_MIGRATION,
]

/** The name Medusa's first migration (2023-12-28) has in both engines. */
export const MEDUSA_FIRST_MIGRATION = "Migration20231228143900"

/** Runs `work` with a fresh client on the given database, closing it afterwards. */
export async function withClient<T>(
  database: string,
  work: (client: Client) => Promise<T>
): Promise<T> {
  const client = new Client({ connectionString: getDatabaseURL(database) })
  client.on("error", () => {})
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end().catch(() => {})
  }
}

/**
 * Creates the database when it does not exist yet. Its sessions run in UTC:
 * Medusa's engines keep created_at/updated_at as `timestamp without time
 * zone`, which Postgres reads as instants in the session's zone (in Medusa's
 * own expiry check as in our migration's); the tests read them as UTC too.
 */
export async function ensureDatabase(database: string): Promise<void> {
  await withClient("postgres", async (client) => {
    const { rowCount } = await client.query(
      `SELECT 1 FROM pg_database WHERE datname = $1`,
      [database]
    )
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${database}"`)
    }
    await client.query(`ALTER DATABASE "${database}" SET timezone TO 'UTC'`)
  })
}

export async function dropDatabase(database: string): Promise<void> {
  await withClient("postgres", async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
  })
}

/** Empties the database: a fresh `public` schema, no table, no migration record. */
export async function resetSchema(database: string): Promise<void> {
  await withClient(database, async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS public CASCADE`)
    await client.query(`CREATE SCHEMA public`)
  })
}

/**
 * Medusa's migrator extension sets the search path with SET LOCAL before each
 * migration, outside the migration's transaction; Postgres warns about that
 * whatever the migration is. Plain NOTICEs ("already exists, skipping") are
 * not collected either: they are the point of IF NOT EXISTS.
 */
const IGNORED_WARNINGS = [/^SET LOCAL can only be used in transaction blocks$/]

type MigrateOptions = {
  /** Stop after this migration (by name) instead of running all pending ones. */
  to?: string
  /** Revert instead of applying: undoes the last executed migration of the directory. */
  down?: boolean
  /**
   * For our directory: whether to finish what the migrations leave to the
   * module after start (runOnlineUpgrade) right after them, as the first
   * instance to start does. Default true.
   */
  online?: boolean
  /**
   * For our directory: the largest table our migrations upgrade themselves
   * instead of queuing the heavy part for the online upgrade (see
   * INLINE_UPGRADE_MAX_ROWS); 0 queues it whatever the table holds.
   */
  inlineMaxRows?: number
}

/**
 * Applies the migrations of one directory the way `medusa db:migrate` does:
 * MikroORM's migrator with Medusa's migrator extension, each migration in a
 * transaction and recorded in `mikro_orm_migrations`. Returns the WARNINGs
 * Postgres sent on the migrator's connections (see IGNORED_WARNINGS).
 */
export async function migrate(
  database: string,
  directory: string,
  { to, down, online = true, inlineMaxRows }: MigrateOptions = {}
): Promise<{ executed: string[]; warnings: string[] }> {
  const warnings: string[] = []
  const orm = await MikroORM.init(
    defineConfig({
      clientUrl: getDatabaseURL(database),
      entities: [],
      discovery: { warnWhenNoEntities: false },
      debug: false,
      pool: {
        min: 0,
        max: 2,
        afterCreate: (
          connection: Client,
          done: (error: Error | null, connection: Client) => void
        ) => {
          connection.on("notice", (notice) => {
            if (
              notice.severity === "WARNING" &&
              !IGNORED_WARNINGS.some((pattern) =>
                pattern.test(notice.message ?? "")
              )
            ) {
              warnings.push(`${notice.severity}: ${notice.message}`)
            }
          })
          if (inlineMaxRows === undefined) {
            return done(null, connection)
          }
          connection.query(
            `SELECT set_config($1, $2, false)`,
            [INLINE_UPGRADE_MAX_ROWS_SETTING, String(inlineMaxRows)],
            (error) => done(error ?? null, connection)
          )
        },
      },
      migrations: {
        path: directory,
        pathTs: directory,
        silent: true,
        snapshot: false,
      },
      extensions: [CustomDBMigrator],
    })
  )
  try {
    const migrator = orm.getMigrator()
    const done = down
      ? await migrator.down()
      : await migrator.up(to ? { to } : undefined)
    if (directory === MIGRATION_DIRS.ours && !down && online) {
      await runOnlineUpgrade(getDatabaseURL(database), {
        wait: true,
        logger: {
          info: () => {},
          warn: (message: string) => warnings.push(`WARNING: ${message}`),
        } as any,
      })
    }
    return { executed: done.map((migration) => migration.name), warnings }
  } finally {
    await orm.close(true)
  }
}

/**
 * Forgets that a migration ran, so the migrator runs it again: what happens
 * when a store's migration records are lost or a second app runs ours.
 */
export async function forgetMigration(
  database: string,
  name: string
): Promise<void> {
  await withClient(database, async (client) => {
    await client.query(`DELETE FROM mikro_orm_migrations WHERE name = $1`, [
      name,
    ])
  })
}

export type TableShape = {
  columns: Record<
    string,
    { type: string; nullable: boolean; default: string | null }
  >
  primaryKey: { name: string; columns: string[] } | null
  /** Index name -> its definition, as pg_indexes prints it. */
  indexes: Record<string, string>
  /** Trigger name -> its definition, as pg_get_triggerdef prints it (constraint triggers left out). */
  triggers: Record<string, string>
}

/** Columns, primary key, indexes and triggers of a table (by default `workflow_execution`), read from the catalog. */
export async function tableShape(
  client: Client,
  table = "workflow_execution"
): Promise<TableShape> {
  const columns = await client.query(
    `SELECT column_name, data_type, is_nullable, column_default
       FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = $1
      ORDER BY ordinal_position`,
    [table]
  )
  const primaryKey = await client.query(
    `SELECT c.conname, array_agg(a.attname::text ORDER BY k.ord) AS columns
       FROM pg_constraint c
       CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
      WHERE c.conrelid = to_regclass('public.' || quote_ident($1)) AND c.contype = 'p'
      GROUP BY c.conname`,
    [table]
  )
  const indexes = await client.query(
    `SELECT indexname, indexdef FROM pg_indexes
      WHERE schemaname = 'public' AND tablename = $1
      ORDER BY indexname`,
    [table]
  )
  const triggers = await client.query(
    `SELECT tgname, pg_get_triggerdef(oid) AS definition FROM pg_trigger
      WHERE tgrelid = to_regclass('public.' || quote_ident($1)) AND NOT tgisinternal
      ORDER BY tgname`,
    [table]
  )
  return {
    columns: Object.fromEntries(
      columns.rows.map((c) => [
        c.column_name,
        {
          type: c.data_type,
          nullable: c.is_nullable === "YES",
          default: c.column_default,
        },
      ])
    ),
    primaryKey: primaryKey.rows[0]
      ? {
          name: primaryKey.rows[0].conname,
          columns: primaryKey.rows[0].columns,
        }
      : null,
    indexes: Object.fromEntries(
      indexes.rows.map((i) => [i.indexname, i.indexdef])
    ),
    triggers: Object.fromEntries(
      triggers.rows.map((t) => [t.tgname, t.definition])
    ),
  }
}

/**
 * Indexes that cover the same thing under two names: same uniqueness, same
 * columns, same predicate. Returns the groups of names that duplicate each other.
 */
export function duplicateIndexes(indexes: Record<string, string>): string[][] {
  const byDefinition = new Map<string, string[]>()
  for (const [name, definition] of Object.entries(indexes)) {
    const key = definition.replace(/INDEX\s+"?[^"\s]+"?\s+ON/i, "INDEX ON")
    byDefinition.set(key, [...(byDefinition.get(key) ?? []), name])
  }
  return [...byDefinition.values()].filter((names) => names.length > 1)
}

/** The tables of the `public` schema, by name (the migrator's own record included). */
export async function tableNames(client: Client): Promise<string[]> {
  const { rows } = await client.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`
  )
  return rows.map((r) => r.tablename)
}

/** Every row, each as one JSON object, in a stable order. */
export async function snapshotRows(
  client: Client
): Promise<Record<string, unknown>[]> {
  const { rows } = await client.query(
    `SELECT to_jsonb(w) AS row FROM workflow_execution w ORDER BY w.id, w.created_at`
  )
  return rows.map((r) => r.row)
}

/**
 * The functions of the `public` schema, by name, apart from those an
 * extension brings (pg_trgm's, when it was created in `public`).
 */
export async function functionNames(client: Client): Promise<string[]> {
  const { rows } = await client.query(
    `SELECT p.proname FROM pg_proc p
      WHERE p.pronamespace = 'public'::regnamespace
        AND NOT EXISTS (
          SELECT 1 FROM pg_depend d
           WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
        )
      ORDER BY p.proname`
  )
  return rows.map((r) => r.proname)
}

/** The extensions created in the database, by name. */
export async function extensionNames(client: Client): Promise<string[]> {
  const { rows } = await client.query(
    `SELECT extname FROM pg_extension ORDER BY extname`
  )
  return rows.map((r) => r.extname)
}

/** Whether the server ships pg_trgm, so that the third migration can create it and its index. */
export async function trigramsAvailable(database: string): Promise<boolean> {
  return await withClient(database, async (client) => {
    const { rowCount } = await client.query(
      `SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'`
    )
    return !!rowCount
  })
}

export type ExecutionCount = {
  workflow_id: string
  state: string
  executions: number
}

/**
 * What `workflow_execution_count` says, summed over its slots, next to what
 * the table holds: its live rows (deleted_at IS NULL) by workflow and state.
 * Both read in one snapshot, both sorted the same way (by workflow, then state).
 */
export async function executionCounts(
  client: Client
): Promise<{ counted: ExecutionCount[]; live: ExecutionCount[] }> {
  const read = async (sql: string): Promise<ExecutionCount[]> =>
    sortCounts(
      (await client.query(sql)).rows.map((r) => ({
        workflow_id: r.workflow_id,
        state: r.state,
        executions: Number(r.executions),
      }))
    )
  await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
  try {
    const counted = await read(
      `SELECT workflow_id, state, sum(executions) AS executions
         FROM workflow_execution_count
        GROUP BY 1, 2`
    )
    const live = await read(
      `SELECT workflow_id, state::text AS state, count(*) AS executions
         FROM workflow_execution
        WHERE deleted_at IS NULL
        GROUP BY 1, 2`
    )
    return { counted, live }
  } finally {
    await client.query(`COMMIT`)
  }
}

/** Counts by workflow, then state, in code point order (whatever the database's collation). */
export function sortCounts(counts: ExecutionCount[]): ExecutionCount[] {
  const key = (c: ExecutionCount) => `${c.workflow_id}\u0000${c.state}`
  return [...counts].sort((a, b) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0
  )
}
