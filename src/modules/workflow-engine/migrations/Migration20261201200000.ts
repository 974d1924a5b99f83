import { Migration } from "@medusajs/framework/mikro-orm/migrations"
import { forgetTasksSql, indexTask, queueTasksSql } from "../upgrade/upgrade-tasks"

/**
 * Finished runs that no purge will ever delete (no retention, no expiry):
 * sub-workflows a parent waited for, runs a store imported. The admin's
 * storage card counts them through this index, which holds only those rows,
 * so the count costs what they are, not what the table is; a write of any
 * other row only evaluates the predicate. Built CONCURRENTLY after start
 * (see upgrade/deferred-indexes.ts).
 */
export class Migration20261201200000 extends Migration {
  async up(): Promise<void> {
    this.addSql(queueTasksSql([indexTask("IDX_workflow_execution_kept_forever")]))
  }

  async down(): Promise<void> {
    this.addSql(forgetTasksSql([indexTask("IDX_workflow_execution_kept_forever")]))
    this.addSql(`DROP INDEX IF EXISTS "IDX_workflow_execution_kept_forever";`)
  }
}
