import { Migration } from "@medusajs/framework/mikro-orm/migrations"
import {
  forgetTasksSql,
  indexTask,
  inlineOrQueueSql,
} from "./frozen/upgrade-task-queue"

/**
 * `resource_ids`: the commerce ids a run is about (order_, cart_, cus_, …),
 * read from its input when it is stored, so that an order's or a customer's
 * runs are one index read. Added without a default, which does not rewrite
 * the table. Its GIN index is built CONCURRENTLY after start (here on a
 * small table). The rows already stored are filled by the online upgrade's
 * back-fill, in batches, whatever the table's size: the ids are read from
 * each run's input by the engine's own code, from its one table of prefixes,
 * which a migration may not import. Until then (and for rows an instance of
 * the previous version inserts during a rolling deploy) a row holds NULL and
 * no resource filter finds it.
 */
export class Migration20261207110000 extends Migration {
  async up(): Promise<void> {
    this.addSql(
      `ALTER TABLE "workflow_execution" ADD COLUMN IF NOT EXISTS "resource_ids" text[];`
    )
    // Before the back-fill is queued: a small table gets its index here only while nothing waits.
    this.addSql(
      inlineOrQueueSql(
        [indexTask(RESOURCE_IDS_INDEX)],
        [
          `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_resource_ids" ON "workflow_execution" USING gin ("resource_ids") WHERE "deleted_at" IS NULL;`,
        ]
      )
    )
    this.addSql(`
      DO $upgrade$
      BEGIN
        IF EXISTS (SELECT 1 FROM "workflow_execution") THEN
          INSERT INTO "workflow_engine_upgrade_task" ("name") VALUES ('${RESOURCE_IDS_BACKFILL}') ON CONFLICT ("name") DO UPDATE SET "after_key" = NULL, "queued_at" = now();
        END IF;
      END $upgrade$;`)
  }

  async down(): Promise<void> {
    this.addSql(
      forgetTasksSql([RESOURCE_IDS_BACKFILL, indexTask(RESOURCE_IDS_INDEX)])
    )
    this.addSql(`DROP INDEX IF EXISTS "IDX_workflow_execution_resource_ids";`)
    this.addSql(
      `ALTER TABLE "workflow_execution" DROP COLUMN IF EXISTS "resource_ids";`
    )
  }
}

/** The back-fill this migration leaves to the online upgrade (a task name: see frozen/upgrade-task-queue.ts). */
const RESOURCE_IDS_BACKFILL = "backfill:resource_ids"

const RESOURCE_IDS_INDEX = "IDX_workflow_execution_resource_ids"
