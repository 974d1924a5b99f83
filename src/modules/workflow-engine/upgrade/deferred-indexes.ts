import {
  FINISHED_STATES_SQL,
  IN_FLIGHT_STATES_SQL,
} from "../transaction-states"
/**
 * The indexes our migrations leave to the online upgrade, by name: what each
 * covers, without `CREATE INDEX`. A migration queues a name (a row of
 * `workflow_engine_upgrade_task`, see upgrade-tasks.ts); the online upgrade
 * builds it CONCURRENTLY, so writers of the table never wait for the build.
 * Until it is built, the queries it serves read the table instead: slower,
 * never wrong.
 *
 * The migration that queues a name builds the same index itself on a small
 * table, from the SQL written in it; that is history, and each definition
 * here must stay what that migration builds (frozen-migrations.spec.ts
 * compares them). Another index is a new name, queued by a new migration.
 */
export const DEFERRED_INDEXES: Record<
  string,
  { unique?: boolean; on: (trgmSchema: string | null) => string | null }
> = {
  // The admin's list, newest first.
  IDX_workflow_execution_created_at: {
    on: () => `("created_at" DESC) WHERE "deleted_at" IS NULL`,
  },
  // At most one in-flight run per (workflow_id, transaction_id); see IN_FLIGHT_DUPLICATES_WARNING.
  IDX_workflow_execution_in_flight_unique: {
    unique: true,
    on: () =>
      `("workflow_id", "transaction_id") WHERE "deleted_at" IS NULL AND "state" IN (${IN_FLIGHT_STATES_SQL})`,
  },
  // A purge pass reads only this index: what expired, oldest first.
  IDX_workflow_execution_expires_at: {
    on: () => `("expires_at") WHERE "expires_at" IS NOT NULL`,
  },
  // Finished rows still without an expiry; empty in steady state.
  IDX_workflow_execution_missing_expiry: {
    on: () =>
      `("updated_at") WHERE "expires_at" IS NULL AND "retention_time" IS NOT NULL AND "state" IN (${FINISHED_STATES_SQL})`,
  },
  // One workflow's runs in one state, newest first: the admin's filtered list.
  IDX_workflow_execution_workflow_id_state_created_at: {
    on: () =>
      `("workflow_id", "state", "created_at") WHERE "deleted_at" IS NULL`,
  },
  // `q` on part of a transaction id; only where pg_trgm could be created.
  IDX_workflow_execution_transaction_id_trgm: {
    on: (trgmSchema) =>
      trgmSchema === null
        ? null
        : `USING gin ("transaction_id" "${trgmSchema.replace(/"/g, '""')}".gin_trgm_ops) WHERE "deleted_at" IS NULL`,
  },
  // Finished runs no purge will delete, which the storage card counts.
  IDX_workflow_execution_kept_forever: {
    on: () =>
      `("workflow_id") WHERE "expires_at" IS NULL AND "retention_time" IS NULL AND "state" IN (${FINISHED_STATES_SQL}) AND "deleted_at" IS NULL`,
  },
  // Runs the stuck scan reported, which the storage card counts and the list's `stuck` filter reads.
  IDX_workflow_execution_stuck_at: {
    on: () =>
      `("stuck_at") WHERE "stuck_at" IS NOT NULL AND "deleted_at" IS NULL`,
  },
  // A commerce object's runs: `resource_ids && ARRAY[…]` (the resource_id filter).
  IDX_workflow_execution_resource_ids: {
    on: () => `USING gin ("resource_ids") WHERE "deleted_at" IS NULL`,
  },
}

/** Logged (and raised as a WARNING) when the table holds several in-flight runs of one transaction. */
export const IN_FLIGHT_DUPLICATES_WARNING =
  "workflow_execution holds several in-flight runs of one transaction; IDX_workflow_execution_in_flight_unique was not created"
