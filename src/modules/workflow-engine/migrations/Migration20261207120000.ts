import { Migration } from "@medusajs/framework/mikro-orm/migrations"

/**
 * Keeping a run, and the audit of bulk actions.
 *
 * - `kept_at`, `kept_by`, `kept_reason`, `kept_expires_at` on
 *   `workflow_execution`: a finished run someone keeps has its `expires_at`
 *   set to `infinity` (retention/sql/keep-execution.ts), its own expiry set
 *   aside in `kept_expires_at`, so that every purge, which reads
 *   IDX_workflow_execution_expires_at up to now(), never reaches it, and the
 *   expiry back-fill (which fills NULLs only) leaves it alone. No index: kept
 *   runs are found in IDX_workflow_execution_expires_at at `infinity`.
 * - `skipped_kept` on `workflow_execution_purge`: how many expired runs a pass
 *   left because they are kept.
 * - `workflow_execution_bulk_action`: one row per bulk retry or cancel
 *   (and dry run), with who asked and what it did.
 *
 * Columns without a default, or with a constant one, do not rewrite the table.
 */
export class Migration20261207120000 extends Migration {
  async up(): Promise<void> {
    this.addSql(`
      ALTER TABLE "workflow_execution"
        ADD COLUMN IF NOT EXISTS "kept_at" timestamptz NULL,
        ADD COLUMN IF NOT EXISTS "kept_by" text NULL,
        ADD COLUMN IF NOT EXISTS "kept_reason" text NULL,
        ADD COLUMN IF NOT EXISTS "kept_expires_at" timestamptz NULL;
    `)
    this.addSql(
      `ALTER TABLE "workflow_execution_purge" ADD COLUMN IF NOT EXISTS "skipped_kept" integer NOT NULL DEFAULT 0;`
    )
    this.addSql(`
      CREATE TABLE IF NOT EXISTS "workflow_execution_bulk_action" (
        "id" text NOT NULL,
        "action" text NOT NULL,
        "actor" text NULL,
        "dry_run" boolean NOT NULL DEFAULT false,
        "filters" jsonb NOT NULL,
        "matched" integer NOT NULL DEFAULT 0,
        "acted" integer NOT NULL DEFAULT 0,
        "skipped" integer NOT NULL DEFAULT 0,
        "batches" integer NOT NULL DEFAULT 0,
        "duration_ms" integer NOT NULL DEFAULT 0,
        "error" text NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "deleted_at" timestamptz NULL,
        CONSTRAINT "workflow_execution_bulk_action_pkey" PRIMARY KEY ("id")
      );
    `)
    this.addSql(
      `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_bulk_action_created_at" ON "workflow_execution_bulk_action" ("created_at") WHERE "deleted_at" IS NULL;`
    )
  }

  async down(): Promise<void> {
    this.addSql(`DROP TABLE IF EXISTS "workflow_execution_bulk_action";`)
    this.addSql(
      `ALTER TABLE "workflow_execution_purge" DROP COLUMN IF EXISTS "skipped_kept";`
    )
    // A kept run gets its own expiry back, so the next purge treats it as before the keep.
    this.addSql(
      `UPDATE "workflow_execution" SET "expires_at" = "kept_expires_at" WHERE "kept_at" IS NOT NULL;`
    )
    this.addSql(`
      ALTER TABLE "workflow_execution"
        DROP COLUMN IF EXISTS "kept_expires_at",
        DROP COLUMN IF EXISTS "kept_reason",
        DROP COLUMN IF EXISTS "kept_by",
        DROP COLUMN IF EXISTS "kept_at";
    `)
  }
}
