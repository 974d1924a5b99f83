/*
 * FROZEN. The SQL that the released migrations 20261125120000, 20261125140000,
 * 20261126090000 and 20261201200000 run to do a heavy part at once or leave it
 * to the online upgrade: editing this file rewrites what they did on every
 * store that ran them. Live code never imports it. A new migration that needs
 * something else writes its own SQL (or its own frozen copy) instead.
 *
 * The contract with the online upgrade (upgrade/) is the rows written here:
 * the table `workflow_engine_upgrade_task` and the task names the migrations
 * pass in (`backfill:…`, `index:<index name>`). This side is history; the
 * runner reads those names and must keep knowing every one of them.
 *
 * Why the heavy parts are queued at all: `medusa db:migrate` runs a module's
 * pending migrations in one transaction, and every ALTER of
 * `workflow_execution` in it holds the table's exclusive lock until it
 * commits; what reads the whole table there would stop checkout for as long,
 * and CREATE INDEX CONCURRENTLY cannot run inside a transaction.
 */

const UPGRADE_TASK_TABLE = "workflow_engine_upgrade_task"

/**
 * A table of at most this many rows is upgraded inside the migration: one
 * back-fill batch's worth, which takes milliseconds under the migration's
 * lock, so a fresh install (an empty table) or a small store never runs an
 * online upgrade at all. The setting INLINE_UPGRADE_MAX_ROWS_SETTING, when
 * set on the migrating session or database, overrides it (0 queues
 * everything, as on a large table).
 */
const INLINE_UPGRADE_MAX_ROWS = 5_000
export const INLINE_UPGRADE_MAX_ROWS_SETTING =
  "medusa_workflow_engine.inline_upgrade_max_rows"

/** The task that builds one deferred index, as the online upgrade reads it back. */
export function indexTask(name: string): string {
  return `index:${name}`
}

/** Queues tasks; queuing one already queued resets it. */
function queueTasksSql(names: string[]): string {
  const values = names
    .map((name) => `('${name.replace(/'/g, "''")}')`)
    .join(", ")
  return `INSERT INTO "${UPGRADE_TASK_TABLE}" ("name") VALUES ${values} ON CONFLICT ("name") DO UPDATE SET "after_key" = NULL, "queued_at" = now();`
}

/** What a migration's down() adds to forget its tasks. */
export function forgetTasksSql(names: string[]): string {
  const list = names.map((name) => `'${name.replace(/'/g, "''")}'`).join(", ")
  return `DELETE FROM "${UPGRADE_TASK_TABLE}" WHERE "name" IN (${list});`
}

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
 * On a small table (see upgradeInlineSql) the `inline` PL/pgSQL statements
 * run now; otherwise `queued` run and `tasks` are left to the online upgrade.
 */
export function inlineOrQueueSql(
  tasks: string[],
  inline: string[],
  queued: string[] = []
): string {
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
