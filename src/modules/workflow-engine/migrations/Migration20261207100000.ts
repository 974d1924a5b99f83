import { Migration } from "@medusajs/framework/mikro-orm/migrations"
import {
  forgetTasksSql,
  indexTask,
  inlineOrQueueSql,
} from "./frozen/upgrade-task-queue"

/**
 * The outbox of run events (events/): `workflow_engine_event` holds each
 * failed, reverted, stuck or awaiting-retry run's event from the commit of
 * the write that caused it until an instance hands it to Medusa's event bus;
 * `dedupe_key` is unique, so writing the same end twice records it once.
 *
 * `workflow_execution.stuck_at`: when the stuck scan last reported the run
 * (cleared by the run's next write). Its index holds only the runs reported
 * stuck, so the storage card's count and the list's `stuck` filter cost what
 * those rows are; built CONCURRENTLY after start on a large table (see
 * upgrade/deferred-indexes.ts), or here on a small one. Adding a column
 * without a default does not rewrite the table.
 */
export class Migration20261207100000 extends Migration {
  async up(): Promise<void> {
    this.addSql(`
      CREATE TABLE IF NOT EXISTS "workflow_engine_event" (
        "id" text NOT NULL DEFAULT ('wfevt_' || replace(gen_random_uuid()::text, '-', '')),
        "name" text NOT NULL,
        "dedupe_key" text NOT NULL,
        "payload" jsonb NOT NULL,
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" timestamptz NOT NULL DEFAULT now(),
        "last_error" text NULL,
        "delivered_at" timestamptz NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "workflow_engine_event_pkey" PRIMARY KEY ("id")
      );`)
    this.addSql(
      `CREATE UNIQUE INDEX IF NOT EXISTS "IDX_workflow_engine_event_dedupe_key" ON "workflow_engine_event" ("dedupe_key");`
    )
    this.addSql(
      `CREATE INDEX IF NOT EXISTS "IDX_workflow_engine_event_pending" ON "workflow_engine_event" ("next_attempt_at") WHERE "delivered_at" IS NULL;`
    )
    this.addSql(
      `CREATE INDEX IF NOT EXISTS "IDX_workflow_engine_event_delivered_at" ON "workflow_engine_event" ("delivered_at") WHERE "delivered_at" IS NOT NULL;`
    )
    this.addSql(
      `ALTER TABLE "workflow_execution" ADD COLUMN IF NOT EXISTS "stuck_at" timestamptz;`
    )
    this.addSql(
      inlineOrQueueSql(
        [indexTask(STUCK_INDEX)],
        [
          `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_stuck_at" ON "workflow_execution" ("stuck_at") WHERE "stuck_at" IS NOT NULL AND "deleted_at" IS NULL;`,
        ]
      )
    )
  }

  async down(): Promise<void> {
    this.addSql(forgetTasksSql([indexTask(STUCK_INDEX)]))
    this.addSql(`DROP INDEX IF EXISTS "IDX_workflow_execution_stuck_at";`)
    this.addSql(
      `ALTER TABLE "workflow_execution" DROP COLUMN IF EXISTS "stuck_at";`
    )
    this.addSql(`DROP TABLE IF EXISTS "workflow_engine_event";`)
  }
}

const STUCK_INDEX = "IDX_workflow_execution_stuck_at"
