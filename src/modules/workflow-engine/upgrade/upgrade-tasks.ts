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
 *
 * The migrations write the table and these names with SQL of their own
 * (migrations/frozen/upgrade-task-queue.ts), and that side is history: a
 * released migration's names are in stores' tables, so the names here are
 * never changed, only added to, and the runner knows every one of them
 * (integration-tests/modules/frozen-migrations.spec.ts holds both sides to it).
 */
export { UPGRADE_TASK_TABLE } from "../models/workflow-engine-upgrade-task"

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

/** resource_ids of the rows stored before they were kept (see references/). */
export const RESOURCE_IDS_BACKFILL = "backfill:resource_ids"

/** The task that builds one deferred index (see deferred-indexes.ts), as the migrations spell it. */
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
