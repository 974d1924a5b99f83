import { Migration } from "@medusajs/framework/mikro-orm/migrations"
import { inlineIndexSql } from "../upgrade/deferred-indexes"
import { forgetTasksSql, indexTask, inlineOrQueueSql } from "../upgrade/upgrade-tasks"

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
    this.addSql(inlineOrQueueSql([indexTask(KEPT_FOREVER_INDEX)], [inlineIndexSql(KEPT_FOREVER_INDEX)]))
  }

  async down(): Promise<void> {
    this.addSql(forgetTasksSql([indexTask(KEPT_FOREVER_INDEX)]))
    this.addSql(`DROP INDEX IF EXISTS "IDX_workflow_execution_kept_forever";`)
  }
}

const KEPT_FOREVER_INDEX = "IDX_workflow_execution_kept_forever"
