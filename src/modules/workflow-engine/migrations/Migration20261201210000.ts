import { Migration } from "@medusajs/framework/mikro-orm/migrations"

/**
 * Many instances on one database: who is alive (a lease per instance), the
 * timers any instance may fire, the schedules that tick once per cluster,
 * and which instance last advanced an in-flight run, so a dead one's runs can
 * be found and recovered.
 */
export class Migration20261201210000 extends Migration {
  async up(): Promise<void> {
    this.addSql(`
      CREATE TABLE IF NOT EXISTS "workflow_engine_instance" (
        "id" text NOT NULL,
        "hostname" text NOT NULL,
        "pid" integer NOT NULL,
        "worker_mode" text NOT NULL,
        "started_at" timestamptz NOT NULL DEFAULT now(),
        "lease_expires_at" timestamptz NOT NULL,
        CONSTRAINT "workflow_engine_instance_pkey" PRIMARY KEY ("id")
      );
    `)

    /*
     * One row per pending timer, keyed so that scheduling the same timer again
     * replaces it. A claimed row belongs to its claimer while that instance's
     * lease lives; after that any instance may claim it again.
     */
    this.addSql(`
      CREATE TABLE IF NOT EXISTS "workflow_execution_timer" (
        "key" text NOT NULL,
        "kind" text NOT NULL,
        "workflow_id" text NOT NULL,
        "transaction_id" text NOT NULL,
        "step_id" text NULL,
        "attempt" integer NULL,
        "metadata" jsonb NULL,
        "due_at" timestamptz NOT NULL,
        "claimed_by" text NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "workflow_execution_timer_pkey" PRIMARY KEY ("key")
      );
    `)
    this.addSql(
      `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_timer_due_at" ON "workflow_execution_timer" ("due_at");`
    )

    this.addSql(`
      CREATE TABLE IF NOT EXISTS "workflow_engine_schedule" (
        "job_id" text NOT NULL,
        "options" jsonb NOT NULL,
        "next_run_at" timestamptz NOT NULL,
        "executions" integer NOT NULL DEFAULT 0,
        "running_by" text NULL,
        "last_run_at" timestamptz NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "workflow_engine_schedule_pkey" PRIMARY KEY ("job_id")
      );
    `)

    // Medusa's engines never write it, so their rows have no owner to recover for.
    this.addSql(
      `ALTER TABLE "workflow_execution" ADD COLUMN IF NOT EXISTS "owner_instance_id" text NULL;`
    )
  }

  async down(): Promise<void> {
    this.addSql(
      `ALTER TABLE "workflow_execution" DROP COLUMN IF EXISTS "owner_instance_id";`
    )
    this.addSql(`DROP TABLE IF EXISTS "workflow_engine_schedule";`)
    this.addSql(`DROP TABLE IF EXISTS "workflow_execution_timer";`)
    this.addSql(`DROP TABLE IF EXISTS "workflow_engine_instance";`)
  }
}
