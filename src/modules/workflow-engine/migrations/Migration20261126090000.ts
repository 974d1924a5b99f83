import { Migration } from "@medusajs/framework/mikro-orm/migrations"

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
     * Counts move in the same transaction as the rows they count, whichever
     * engine or statement writes them, so a committed count is always exact.
     * Inserts and deletes are counted per statement (one purge batch is one
     * upsert per group, not one per row); updates per row, and only those
     * that change what is counted.
     */
    this.addSql(`
      CREATE OR REPLACE FUNCTION "workflow_execution_count_rows"() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO "workflow_execution_count" AS c ("workflow_id", "state", "slot", "executions")
          SELECT "workflow_id", "state", pg_backend_pid() % 8, count(*)
            FROM new_rows WHERE "deleted_at" IS NULL
           GROUP BY "workflow_id", "state"
           -- One lock order for every writer, so two statements never deadlock on counters.
           ORDER BY "workflow_id", "state"
          ON CONFLICT ("workflow_id", "state", "slot")
          DO UPDATE SET "executions" = c."executions" + excluded."executions";
        ELSE
          INSERT INTO "workflow_execution_count" AS c ("workflow_id", "state", "slot", "executions")
          SELECT "workflow_id", "state", pg_backend_pid() % 8, -count(*)
            FROM old_rows WHERE "deleted_at" IS NULL
           GROUP BY "workflow_id", "state"
           ORDER BY "workflow_id", "state"
          ON CONFLICT ("workflow_id", "state", "slot")
          DO UPDATE SET "executions" = c."executions" + excluded."executions";
        END IF;
        RETURN NULL;
      END $$;
    `)

    /*
     * Runs once per run that changes state, on the hot path: two plain
     * upserts, the group that sorts first first, so two writers moving runs
     * between the same two groups in opposite directions never deadlock.
     */
    this.addSql(`
      CREATE OR REPLACE FUNCTION "workflow_execution_count_update"() RETURNS trigger
      LANGUAGE plpgsql AS $$
      DECLARE
        writer_slot smallint := pg_backend_pid() % 8;
        old_first boolean := (OLD."workflow_id", OLD."state"::text) <= (NEW."workflow_id", NEW."state"::text);
      BEGIN
        IF old_first AND OLD."deleted_at" IS NULL THEN
          INSERT INTO "workflow_execution_count" AS c ("workflow_id", "state", "slot", "executions")
          VALUES (OLD."workflow_id", OLD."state", writer_slot, -1)
          ON CONFLICT ("workflow_id", "state", "slot") DO UPDATE SET "executions" = c."executions" - 1;
        END IF;
        IF NEW."deleted_at" IS NULL THEN
          INSERT INTO "workflow_execution_count" AS c ("workflow_id", "state", "slot", "executions")
          VALUES (NEW."workflow_id", NEW."state", writer_slot, 1)
          ON CONFLICT ("workflow_id", "state", "slot") DO UPDATE SET "executions" = c."executions" + 1;
        END IF;
        IF NOT old_first AND OLD."deleted_at" IS NULL THEN
          INSERT INTO "workflow_execution_count" AS c ("workflow_id", "state", "slot", "executions")
          VALUES (OLD."workflow_id", OLD."state", writer_slot, -1)
          ON CONFLICT ("workflow_id", "state", "slot") DO UPDATE SET "executions" = c."executions" - 1;
        END IF;
        RETURN NULL;
      END $$;
    `)

    this.addSql(`
      CREATE OR REPLACE FUNCTION "workflow_execution_count_truncate"() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM "workflow_execution_count";
        RETURN NULL;
      END $$;
    `)

    /*
     * Writers wait while the counts are filled in (reads go on), so no row
     * is written between the snapshot counted here and the triggers taking
     * over. On a table of a million rows that is a few seconds.
     */
    this.addSql(`LOCK TABLE "workflow_execution" IN SHARE ROW EXCLUSIVE MODE;`)
    for (const [name, timing] of [
      ["workflow_execution_count_insert", `AFTER INSERT ON "workflow_execution" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "workflow_execution_count_rows"()`],
      ["workflow_execution_count_delete", `AFTER DELETE ON "workflow_execution" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "workflow_execution_count_rows"()`],
      [
        "workflow_execution_count_update",
        `AFTER UPDATE ON "workflow_execution" FOR EACH ROW
         WHEN (OLD."state" IS DISTINCT FROM NEW."state"
               OR OLD."workflow_id" IS DISTINCT FROM NEW."workflow_id"
               OR (OLD."deleted_at" IS NULL) <> (NEW."deleted_at" IS NULL))
         EXECUTE FUNCTION "workflow_execution_count_update"()`,
      ],
      ["workflow_execution_count_truncate", `AFTER TRUNCATE ON "workflow_execution" FOR EACH STATEMENT EXECUTE FUNCTION "workflow_execution_count_truncate"()`],
    ]) {
      this.addSql(`DROP TRIGGER IF EXISTS "${name}" ON "workflow_execution";`)
      this.addSql(`CREATE TRIGGER "${name}" ${timing};`)
    }
    this.addSql(`DELETE FROM "workflow_execution_count";`)
    this.addSql(`
      INSERT INTO "workflow_execution_count" ("workflow_id", "state", "slot", "executions")
      SELECT "workflow_id", "state", 0, count(*)
        FROM "workflow_execution" WHERE "deleted_at" IS NULL
       GROUP BY "workflow_id", "state";
    `)

    // One workflow's runs in one state, newest first: the admin's filtered list.
    this.addSql(
      `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_workflow_id_state_created_at" ON "workflow_execution" ("workflow_id", "state", "created_at") WHERE "deleted_at" IS NULL;`
    )

    /*
     * pg_trgm ships with Postgres' contrib and is a trusted extension, so the
     * database owner may create it; where it is missing or not allowed, `q`
     * still works, by reading the table.
     */
    this.addSql(`
      DO $$
      DECLARE
        trgm_schema text;
      BEGIN
        BEGIN
          CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN others THEN
          RAISE NOTICE 'pg_trgm is not available (%): q on transaction_id will scan the table', SQLERRM;
        END;
        SELECT n.nspname INTO trgm_schema
          FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'pg_trgm';
        IF trgm_schema IS NOT NULL THEN
          EXECUTE format(
            'CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_transaction_id_trgm" ON "workflow_execution" USING gin ("transaction_id" %I.gin_trgm_ops) WHERE "deleted_at" IS NULL',
            trgm_schema
          );
        END IF;
      END $$;
    `)
  }

  async down(): Promise<void> {
    this.addSql(`DROP INDEX IF EXISTS "IDX_workflow_execution_transaction_id_trgm";`)
    this.addSql(`DROP INDEX IF EXISTS "IDX_workflow_execution_workflow_id_state_created_at";`)
    for (const name of ["insert", "delete", "update", "truncate"]) {
      this.addSql(`DROP TRIGGER IF EXISTS "workflow_execution_count_${name}" ON "workflow_execution";`)
    }
    this.addSql(`DROP FUNCTION IF EXISTS "workflow_execution_count_rows"();`)
    this.addSql(`DROP FUNCTION IF EXISTS "workflow_execution_count_update"();`)
    this.addSql(`DROP FUNCTION IF EXISTS "workflow_execution_count_truncate"();`)
    this.addSql(`DROP TABLE IF EXISTS "workflow_execution_count";`)
  }
}
