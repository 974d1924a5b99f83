import { Migration } from "@medusajs/framework/mikro-orm/migrations"

/**
 * Indexes that cost every write and answer no query another index does not:
 * `workflow_id` and `(workflow_id, transaction_id)` are prefixes of the
 * primary key, `deleted_at` holds only NULLs, and `run_id` alone is never
 * looked up (a run is found by its whole key). A stored run is an INSERT and
 * an UPDATE that changes `state`, which several indexes need, so no update is
 * HOT and each index costs an entry per write: dropping four of fifteen cuts
 * the entries a stored run writes by a quarter.
 *
 * A drop only needs the table's lock for a moment (no rows are read), but it
 * waits for the transactions using the table at that moment, and writers
 * queue behind it meanwhile. It is not done CONCURRENTLY because
 * `medusa db:migrate` runs a module's pending migrations in one transaction,
 * which a concurrent drop cannot join. Medusa's engines run without these
 * indexes (their lookups go by the primary key, id and transaction id), and
 * `down` puts them back.
 */
export class Migration20261202090000 extends Migration {
  async up(): Promise<void> {
    for (const name of REDUNDANT_INDEXES) {
      this.addSql(`DROP INDEX IF EXISTS "${name}";`)
    }
  }

  async down(): Promise<void> {
    this.addSql(
      `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_deleted_at" ON "workflow_execution" ("deleted_at") WHERE "deleted_at" IS NULL;`
    )
    this.addSql(
      `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_run_id" ON "workflow_execution" ("run_id") WHERE "deleted_at" IS NULL;`
    )
    this.addSql(
      `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_workflow_id" ON "workflow_execution" ("workflow_id") WHERE "deleted_at" IS NULL;`
    )
    this.addSql(
      `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_workflow_id_transaction_id" ON "workflow_execution" ("workflow_id", "transaction_id") WHERE "deleted_at" IS NULL;`
    )
  }
}

/** The indexes this migration drops. */
export const REDUNDANT_INDEXES = [
  "IDX_workflow_execution_deleted_at",
  "IDX_workflow_execution_run_id",
  "IDX_workflow_execution_workflow_id",
  "IDX_workflow_execution_workflow_id_transaction_id",
]
