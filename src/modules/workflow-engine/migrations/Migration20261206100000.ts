import { Migration } from "@medusajs/framework/mikro-orm/migrations"

/**
 * A short log of the runs that finished on some instance, for the instances
 * that cannot LISTEN (behind a transaction pooler without
 * `directDatabaseUrl`) and for any instance after a gap in listening: their
 * subscribers' `onFinish` is read from here. Each finish writes its row in
 * the statement that notifies it, and prunes a few rows older than an hour,
 * so the table holds about an hour of finishes.
 */
export class Migration20261206100000 extends Migration {
  async up(): Promise<void> {
    this.addSql(`
      CREATE TABLE IF NOT EXISTS "workflow_engine_finish" (
        "id" text NOT NULL,
        "workflow_id" text NOT NULL,
        "transaction_id" text NOT NULL,
        "state" text NOT NULL,
        "instance_id" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "deleted_at" timestamptz NULL,
        CONSTRAINT "workflow_engine_finish_pkey" PRIMARY KEY ("id")
      );
    `)
    this.addSql(
      `CREATE INDEX IF NOT EXISTS "IDX_workflow_engine_finish_created_at" ON "workflow_engine_finish" ("created_at");`
    )
  }

  async down(): Promise<void> {
    this.addSql(`DROP TABLE IF EXISTS "workflow_engine_finish";`)
  }
}
