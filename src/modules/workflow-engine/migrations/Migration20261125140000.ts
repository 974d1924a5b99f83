import { Migration } from "@medusajs/framework/mikro-orm/migrations"
import {
  forgetTasksSql,
  indexTask,
  inlineOrQueueSql,
} from "./frozen/upgrade-task-queue"

/**
 * Retention that bounds the table: an indexed expiry on finished runs, the
 * audit trail of purge passes, and the schedule row that lets one instance of
 * a cluster run each scheduled pass.
 */
export class Migration20261125140000 extends Migration {
  async up(): Promise<void> {
    this.addSql(
      `ALTER TABLE "workflow_execution" ADD COLUMN IF NOT EXISTS "expires_at" timestamptz NULL;`
    )

    /*
     * Finished rows already in the table, whoever wrote them, expire as
     * Medusa's engines would have expired them: updated_at + retention_time,
     * filled after start in batches (see frozen/upgrade-task-queue.ts). Rows
     * Medusa's engine writes later (a rolling deploy) are filled in by each
     * purge pass, through IDX_workflow_execution_missing_expiry. The purge
     * reads IDX_workflow_execution_expires_at, what expired, oldest first;
     * both are built CONCURRENTLY after the back-fill. A small table gets
     * all of it here at once.
     */
    this.addSql(
      inlineOrQueueSql(
        [EXPIRY_BACKFILL, ...RETENTION_INDEXES.map(indexTask)],
        [
          `UPDATE "workflow_execution"
        SET "expires_at" = "updated_at" + make_interval(secs => "retention_time")
      WHERE true
        AND "expires_at" IS NULL
        AND "retention_time" IS NOT NULL
        AND "state" IN ('done', 'failed', 'reverted');`,
          `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_expires_at" ON "workflow_execution" ("expires_at") WHERE "expires_at" IS NOT NULL;`,
          `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_missing_expiry" ON "workflow_execution" ("updated_at") WHERE "expires_at" IS NULL AND "retention_time" IS NOT NULL AND "state" IN ('done', 'failed', 'reverted');`,
        ]
      )
    )

    this.addSql(`
      CREATE TABLE IF NOT EXISTS "workflow_execution_purge" (
        "id" text NOT NULL,
        "trigger" text NOT NULL,
        "actor" text NULL,
        "dry_run" boolean NOT NULL DEFAULT false,
        "deleted" integer NOT NULL DEFAULT 0,
        "batches" integer NOT NULL DEFAULT 0,
        "duration_ms" integer NOT NULL DEFAULT 0,
        "longest_batch_ms" integer NOT NULL DEFAULT 0,
        "transaction_ids" jsonb NULL,
        "error" text NULL,
        "started_at" timestamptz NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "deleted_at" timestamptz NULL,
        CONSTRAINT "workflow_execution_purge_pkey" PRIMARY KEY ("id")
      );
    `)
    this.addSql(
      `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_purge_created_at" ON "workflow_execution_purge" ("created_at" DESC) WHERE "deleted_at" IS NULL;`
    )

    this.addSql(`
      CREATE TABLE IF NOT EXISTS "workflow_execution_purge_schedule" (
        "name" text NOT NULL,
        "next_run_at" timestamptz NOT NULL,
        CONSTRAINT "workflow_execution_purge_schedule_pkey" PRIMARY KEY ("name")
      );
    `)
  }

  async down(): Promise<void> {
    this.addSql(
      forgetTasksSql([EXPIRY_BACKFILL, ...RETENTION_INDEXES.map(indexTask)])
    )
    this.addSql(`DROP TABLE IF EXISTS "workflow_execution_purge_schedule";`)
    this.addSql(`DROP TABLE IF EXISTS "workflow_execution_purge";`)
    this.addSql(`DROP INDEX IF EXISTS "IDX_workflow_execution_missing_expiry";`)
    this.addSql(`DROP INDEX IF EXISTS "IDX_workflow_execution_expires_at";`)
    this.addSql(
      `ALTER TABLE "workflow_execution" DROP COLUMN IF EXISTS "expires_at";`
    )
  }
}

/** The back-fill this migration leaves to the online upgrade (a task name: see frozen/upgrade-task-queue.ts). */
const EXPIRY_BACKFILL = "backfill:expires_at"

/** The indexes this migration leaves to the online upgrade. */
const RETENTION_INDEXES = [
  "IDX_workflow_execution_expires_at",
  "IDX_workflow_execution_missing_expiry",
]
