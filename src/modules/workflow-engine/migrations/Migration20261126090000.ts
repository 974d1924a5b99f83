import { Migration } from "@medusajs/framework/mikro-orm/migrations"
import {
  BOUNDED_COUNT_FUNCTIONS_SQL,
  COUNT_BACKFILL,
  COUNTED_THROUGH_FUNCTION,
  PLAIN_COUNT_FUNCTIONS_SQL,
} from "./frozen/Migration20261126090000-count-functions"
import {
  forgetTasksSql,
  indexTask,
  inlineOrQueueSql,
  queuedSql,
} from "./frozen/upgrade-task-queue"

/**
 * Listing at scale: an exact count of live executions per workflow and state
 * that the admin's page counter reads instead of counting the table, an index
 * shaped to "one workflow's runs in one state, newest first", and a trigram
 * index that lets `q` find part of a transaction id without reading every row.
 */
export class Migration20261126090000 extends Migration {
  async up(): Promise<void> {
    /*
     * Each (workflow_id, state) is spread over a few slots picked by the
     * writing session, so concurrent runs of one workflow seldom wait on the
     * same counter row until their commit. The count is the sum of the slots.
     */
    this.addSql(`
      CREATE TABLE IF NOT EXISTS "workflow_execution_count" (
        "workflow_id" text NOT NULL,
        "state" text NOT NULL,
        "slot" smallint NOT NULL,
        "executions" bigint NOT NULL,
        CONSTRAINT "workflow_execution_count_pkey" PRIMARY KEY ("workflow_id", "state", "slot")
      );
    `)

    /*
     * The functions the triggers run (see frozen/Migration20261126090000-count-functions.ts):
     * on a small table the plain ones, and the rows are counted below; on a
     * large one those that count only what the online back-fill reached,
     * which swaps them for the plain ones when it is done.
     */
    this.addSql(
      inlineOrQueueSql(
        [COUNT_BACKFILL],
        PLAIN_COUNT_FUNCTIONS_SQL,
        BOUNDED_COUNT_FUNCTIONS_SQL
      )
    )

    this.addSql(`
      CREATE OR REPLACE FUNCTION "workflow_execution_count_truncate"() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM "workflow_execution_count";
        RETURN NULL;
      END $$;
    `)

    /*
     * The triggers take over and the counts start from nothing in one step:
     * writers wait for this transaction. On a small table the rows are
     * counted here; on a large one nothing is read, and the triggers count
     * only what the back-fill has reached, which is nothing yet.
     */
    this.addSql(`LOCK TABLE "workflow_execution" IN SHARE ROW EXCLUSIVE MODE;`)
    for (const [name, timing] of [
      [
        "workflow_execution_count_insert",
        `AFTER INSERT ON "workflow_execution" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workflow_execution_count_rows"()`,
      ],
      [
        "workflow_execution_count_delete",
        `AFTER DELETE ON "workflow_execution" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "workflow_execution_count_rows"()`,
      ],
      [
        "workflow_execution_count_update",
        `AFTER UPDATE ON "workflow_execution" FOR EACH ROW
         WHEN (OLD."state" IS DISTINCT FROM NEW."state"
               OR OLD."workflow_id" IS DISTINCT FROM NEW."workflow_id"
               OR (OLD."deleted_at" IS NULL) <> (NEW."deleted_at" IS NULL))
         EXECUTE FUNCTION "workflow_execution_count_update"()`,
      ],
      [
        "workflow_execution_count_truncate",
        `AFTER TRUNCATE ON "workflow_execution" FOR EACH STATEMENT EXECUTE FUNCTION "workflow_execution_count_truncate"()`,
      ],
    ]) {
      this.addSql(`DROP TRIGGER IF EXISTS "${name}" ON "workflow_execution";`)
      this.addSql(`CREATE TRIGGER "${name}" ${timing};`)
    }
    this.addSql(`DELETE FROM "workflow_execution_count";`)
    // Left to the online upgrade, the condition is false once, and nothing is read.
    this.addSql(`
      INSERT INTO "workflow_execution_count" ("workflow_id", "state", "slot", "executions")
      SELECT "workflow_id", "state", 0, count(*)
        FROM "workflow_execution" WHERE "deleted_at" IS NULL AND NOT ${queuedSql(COUNT_BACKFILL)}
       GROUP BY "workflow_id", "state";
    `)

    /*
     * pg_trgm ships with Postgres' contrib and is a trusted extension, so the
     * database owner may create it; where it is missing or not allowed, `q`
     * still works, by reading the table.
     */
    this.addSql(`
      DO $$
      BEGIN
        BEGIN
          CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN others THEN
          RAISE NOTICE 'pg_trgm is not available (%): q on transaction_id will scan the table', SQLERRM;
        END;
      END $$;
    `)

    // Built CONCURRENTLY after start, or here on a small table (the trigram one only where pg_trgm exists).
    this.addSql(
      inlineOrQueueSql(COUNT_INDEXES.map(indexTask), [
        `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_workflow_id_state_created_at" ON "workflow_execution" ("workflow_id", "state", "created_at") WHERE "deleted_at" IS NULL;`,
        `IF ${TRGM_SCHEMA_SQL} IS NOT NULL THEN
          EXECUTE format(
            'CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_transaction_id_trgm" ON "workflow_execution" USING gin ("transaction_id" %I.gin_trgm_ops) WHERE "deleted_at" IS NULL',
            ${TRGM_SCHEMA_SQL}
          );
        END IF;`,
      ])
    )
  }

  async down(): Promise<void> {
    this.addSql(
      forgetTasksSql([COUNT_BACKFILL, ...COUNT_INDEXES.map(indexTask)])
    )
    this.addSql(
      `DROP INDEX IF EXISTS "IDX_workflow_execution_transaction_id_trgm";`
    )
    this.addSql(
      `DROP INDEX IF EXISTS "IDX_workflow_execution_workflow_id_state_created_at";`
    )
    for (const name of ["insert", "delete", "update", "truncate"]) {
      this.addSql(
        `DROP TRIGGER IF EXISTS "workflow_execution_count_${name}" ON "workflow_execution";`
      )
    }
    this.addSql(`DROP FUNCTION IF EXISTS "workflow_execution_count_rows"();`)
    this.addSql(`DROP FUNCTION IF EXISTS "workflow_execution_count_update"();`)
    this.addSql(
      `DROP FUNCTION IF EXISTS "workflow_execution_count_truncate"();`
    )
    this.addSql(`DROP FUNCTION IF EXISTS "${COUNTED_THROUGH_FUNCTION}"();`)
    this.addSql(`DROP TABLE IF EXISTS "workflow_execution_count";`)
  }
}

/** The indexes this migration leaves to the online upgrade (the trigram one only where pg_trgm exists). */
const COUNT_INDEXES = [
  "IDX_workflow_execution_workflow_id_state_created_at",
  "IDX_workflow_execution_transaction_id_trgm",
]

/** The schema pg_trgm lives in, or NULL where it could not be created. */
const TRGM_SCHEMA_SQL = `(SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm')`
