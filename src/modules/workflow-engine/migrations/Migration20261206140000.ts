import { Migration } from "@medusajs/framework/mikro-orm/migrations"

/**
 * `awaited_steps`: the async steps of a run whose handler returned, as
 * `<step id>#<attempt>` (see storage/awaited-steps.ts). Recovery fails an
 * async step of a dead instance whose handler it does not find there, as it
 * fails a synchronous step that was running. Rows already stored keep NULL,
 * "not known", which recovery reads as before (the step waits for its
 * answer). No default: the engine that notes the handlers inserts its rows
 * with an empty list, while an instance of the previous version still
 * running during a rolling deploy inserts NULL, and its runs are judged as
 * before. Adding a column without a default does not rewrite the table.
 */
export class Migration20261206140000 extends Migration {
  async up(): Promise<void> {
    this.addSql(
      `ALTER TABLE "workflow_execution" ADD COLUMN IF NOT EXISTS "awaited_steps" text[];`
    )
  }

  async down(): Promise<void> {
    this.addSql(
      `ALTER TABLE "workflow_execution" DROP COLUMN IF EXISTS "awaited_steps";`
    )
  }
}
