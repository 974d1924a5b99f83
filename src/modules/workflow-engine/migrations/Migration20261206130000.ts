import { Migration } from "@medusajs/framework/mikro-orm/migrations"

/**
 * Fencing of runs in flight: `owner_epoch` counts the takeovers of a run.
 * Recovery bumps it when it takes a run from an instance judged dead, and
 * every write an execution makes for the run applies only while the epoch is
 * still the one that execution loaded (see storage/fencing.ts), so an
 * instance that was paused past its lease cannot write over the run's new
 * owner. A constant default: Postgres adds the column without rewriting the
 * table, and the rows there (Medusa's, or older ones of ours) start at 0.
 */
export class Migration20261206130000 extends Migration {
  async up(): Promise<void> {
    this.addSql(
      `ALTER TABLE "workflow_execution" ADD COLUMN IF NOT EXISTS "owner_epoch" integer NOT NULL DEFAULT 0;`
    )
  }

  async down(): Promise<void> {
    this.addSql(
      `ALTER TABLE "workflow_execution" DROP COLUMN IF EXISTS "owner_epoch";`
    )
  }
}
