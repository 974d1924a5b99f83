import { Migration } from "@medusajs/framework/mikro-orm/migrations"
import {
  forgetTasksSql,
  indexTask,
  inlineOrQueueSql,
} from "./frozen/upgrade-task-queue"

/**
 * Finished runs that no purge will ever delete (no retention, no expiry):
 * sub-workflows a parent waited for, runs a store imported. The admin's
 * storage card counts them through this index, which holds only those rows,
 * so the count costs what they are, not what the table is; a write of any
 * other row only evaluates the predicate. Built CONCURRENTLY after start
 * (see upgrade/deferred-indexes.ts), or here on a small table.
 */
export class Migration20261201200000 extends Migration {
  async up(): Promise<void> {
    this.addSql(
      inlineOrQueueSql(
        [indexTask(KEPT_FOREVER_INDEX)],
        [
          `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_kept_forever" ON "workflow_execution" ("workflow_id") WHERE "expires_at" IS NULL AND "retention_time" IS NULL AND "state" IN ('done', 'failed', 'reverted') AND "deleted_at" IS NULL;`,
        ]
      )
    )
  }

  async down(): Promise<void> {
    this.addSql(forgetTasksSql([indexTask(KEPT_FOREVER_INDEX)]))
    this.addSql(`DROP INDEX IF EXISTS "IDX_workflow_execution_kept_forever";`)
  }
}

const KEPT_FOREVER_INDEX = "IDX_workflow_execution_kept_forever"
