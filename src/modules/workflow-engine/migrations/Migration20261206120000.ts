import { Migration } from "@medusajs/framework/mikro-orm/migrations"

/**
 * Drops `workflow_execution_purge_schedule`, which the retention migration
 * made for the scheduled purge and nothing has written since the purge
 * became one of the cluster schedules (`workflow_engine_schedule`). With it
 * gone, the tables the migrations leave are the tables the models declare,
 * so a schema Medusa's test runner builds from the models has what a
 * migrated database has. `down` puts it back, empty, as it was made.
 */
export class Migration20261206120000 extends Migration {
  async up(): Promise<void> {
    this.addSql(`DROP TABLE IF EXISTS "workflow_execution_purge_schedule";`)
  }

  async down(): Promise<void> {
    this.addSql(`
      CREATE TABLE IF NOT EXISTS "workflow_execution_purge_schedule" (
        "name" text NOT NULL,
        "next_run_at" timestamptz NOT NULL,
        CONSTRAINT "workflow_execution_purge_schedule_pkey" PRIMARY KEY ("name")
      );
    `)
  }
}
