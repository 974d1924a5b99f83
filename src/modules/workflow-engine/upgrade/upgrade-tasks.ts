/**
 * The work a migration leaves to the online upgrade, as the names of the rows
 * it queues in `workflow_engine_upgrade_task`. `medusa db:migrate` runs every
 * pending migration of a module in one transaction (MikroORM's migrator,
 * transactional and all-or-nothing, as Medusa configures it), and every
 * ALTER of `workflow_execution` in it holds the table's exclusive lock until
 * that transaction commits: anything that reads the whole table there stops
 * checkout for as long. CREATE INDEX CONCURRENTLY cannot run inside a
 * transaction, and a migration that opts out of it (`isTransactional()`)
 * runs on another connection of the pool while the batch's transaction still
 * holds the lock, so it would wait for itself. So the migrations queue the
 * heavy parts, and the module runs them after start (online-upgrade.ts).
 */
export const UPGRADE_TASK_TABLE = "workflow_engine_upgrade_task"

/** retention_time of rows from engines before 2.8, which kept it only in the flow's options. */
export const RETENTION_BACKFILL = "backfill:retention_time"
/** expires_at of finished rows already in the table when the retention migration ran. */
export const EXPIRY_BACKFILL = "backfill:expires_at"
/**
 * The counts of the rows already in the table when the counting migration
 * ran. Its `after_key` is the primary key up to which rows are counted; the
 * count triggers read it (see the counting migration), so every row is
 * counted exactly once, by the back-fill or by a trigger.
 */
export const COUNT_BACKFILL = "backfill:count"

/** The task that builds one deferred index (see deferred-indexes.ts). */
export function indexTask(name: string): string {
  return `index:${name}`
}

/**
 * What a purge's indexed path reads: every finished row's `expires_at`, its
 * index, and the index of rows still without one. Until these are done, a
 * purge reads the table's rows instead (see retention/unfilled-purge.ts).
 */
export const EXPIRY_TASKS = [
  RETENTION_BACKFILL,
  EXPIRY_BACKFILL,
  indexTask("IDX_workflow_execution_expires_at"),
  indexTask("IDX_workflow_execution_missing_expiry"),
]

/** The SQL a migration adds to queue tasks; queuing one already queued resets it. */
export function queueTasksSql(names: string[]): string {
  const values = names.map((name) => `('${name.replace(/'/g, "''")}')`).join(", ")
  return `INSERT INTO "${UPGRADE_TASK_TABLE}" ("name") VALUES ${values} ON CONFLICT ("name") DO UPDATE SET "after_key" = NULL, "queued_at" = now();`
}

/** The SQL a migration's down() adds to forget its tasks. */
export function forgetTasksSql(names: string[]): string {
  const list = names.map((name) => `'${name.replace(/'/g, "''")}'`).join(", ")
  return `DELETE FROM "${UPGRADE_TASK_TABLE}" WHERE "name" IN (${list});`
}

/**
 * A table of at most this many rows is upgraded inside the migration: one
 * back-fill batch's worth, which takes milliseconds under the migration's
 * lock, so a fresh install (an empty table) or a small store never runs an
 * online upgrade at all. The setting INLINE_UPGRADE_MAX_ROWS_SETTING, when
 * set on the migrating session or database, overrides it (0 queues
 * everything, as on a large table).
 */
export const INLINE_UPGRADE_MAX_ROWS = 5_000
export const INLINE_UPGRADE_MAX_ROWS_SETTING = "medusa_workflow_engine.inline_upgrade_max_rows"

/**
 * True (in SQL) when a migration does its heavy part itself: the table is
 * small (counted up to the limit, never further) and nothing is queued yet,
 * so work a previous migration left (a back-fill a later one depends on)
 * always runs first, in order, online. Under the migration's exclusive lock
 * the table cannot change, so every migration of one `db:migrate` decides alike.
 */
function upgradeInlineSql(): string {
  const limit = `coalesce(nullif(current_setting('${INLINE_UPGRADE_MAX_ROWS_SETTING}', true), '')::integer, ${INLINE_UPGRADE_MAX_ROWS})`
  return `(SELECT count(*) FROM (SELECT 1 FROM "workflow_execution" LIMIT ${limit} + 1) AS s) <= ${limit}
      AND NOT EXISTS (SELECT 1 FROM "${UPGRADE_TASK_TABLE}")`
}

/**
 * The SQL a migration adds for a heavy part: on a small table (see
 * upgradeInlineSql) the `inline` PL/pgSQL statements run now; otherwise
 * `queued` run and `tasks` are left to the online upgrade.
 */
export function inlineOrQueueSql(tasks: string[], inline: string[], queued: string[] = []): string {
  return `
    DO $upgrade$
    BEGIN
      IF ${upgradeInlineSql()} THEN
        ${inline.join("\n        ")}
      ELSE
        ${[...queued, queueTasksSql(tasks)].join("\n        ")}
      END IF;
    END $upgrade$;`
}

/** SQL true while `name` is left to the online upgrade. */
export function queuedSql(name: string): string {
  return `EXISTS (SELECT 1 FROM "${UPGRADE_TASK_TABLE}" WHERE "name" = '${name.replace(/'/g, "''")}')`
}
