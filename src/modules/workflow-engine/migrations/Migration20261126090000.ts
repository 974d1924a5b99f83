import { Migration } from "@medusajs/framework/mikro-orm/migrations"
import { COUNT_BACKFILL, forgetTasksSql, indexTask, queueTasksSql, UPGRADE_TASK_TABLE } from "../upgrade/upgrade-tasks"

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
     * While the rows already in the table are being counted (see
     * upgrade/upgrade-tasks.ts, COUNT_BACKFILL), a trigger counts only rows up
     * to the key the back-fill reached; the back-fill counts the rest as it
     * gets there. Each counting batch holds the table's SHARE ROW EXCLUSIVE
     * lock, so no trigger runs while the boundary moves, and a trigger (READ
     * COMMITTED: each statement of a volatile function reads anew) sees the
     * boundary of the last committed batch. FOR KEY SHARE makes a writer
     * whose snapshot is older than that batch (REPEATABLE READ) fail with a
     * serialization error instead of counting against a stale boundary. Once
     * the back-fill is done its task row is gone and every row is counted.
     */
    this.addSql(`
      CREATE OR REPLACE FUNCTION "workflow_execution_counted_through"(OUT pending boolean, OUT through text[])
      LANGUAGE plpgsql AS $$
      BEGIN
        SELECT true, t."after_key" INTO pending, through
          FROM "${UPGRADE_TASK_TABLE}" t WHERE t."name" = '${COUNT_BACKFILL}' FOR KEY SHARE;
        pending := coalesce(pending, false);
      END $$;
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
      DECLARE
        backfill record := "workflow_execution_counted_through"();
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO "workflow_execution_count" AS c ("workflow_id", "state", "slot", "executions")
          SELECT "workflow_id", "state", pg_backend_pid() % 8, count(*)
            FROM new_rows
           WHERE "deleted_at" IS NULL
             AND (NOT backfill.pending
                  OR ("workflow_id", "transaction_id", "run_id") <= (backfill.through[1], backfill.through[2], backfill.through[3]))
           GROUP BY "workflow_id", "state"
           -- One lock order for every writer, so two statements never deadlock on counters.
           ORDER BY "workflow_id", "state"
          ON CONFLICT ("workflow_id", "state", "slot")
          DO UPDATE SET "executions" = c."executions" + excluded."executions";
        ELSE
          INSERT INTO "workflow_execution_count" AS c ("workflow_id", "state", "slot", "executions")
          SELECT "workflow_id", "state", pg_backend_pid() % 8, -count(*)
            FROM old_rows
           WHERE "deleted_at" IS NULL
             AND (NOT backfill.pending
                  OR ("workflow_id", "transaction_id", "run_id") <= (backfill.through[1], backfill.through[2], backfill.through[3]))
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
        backfill record := "workflow_execution_counted_through"();
        old_counted boolean := OLD."deleted_at" IS NULL AND (NOT backfill.pending OR coalesce(
          (OLD."workflow_id", OLD."transaction_id", OLD."run_id") <= (backfill.through[1], backfill.through[2], backfill.through[3]), false));
        new_counted boolean := NEW."deleted_at" IS NULL AND (NOT backfill.pending OR coalesce(
          (NEW."workflow_id", NEW."transaction_id", NEW."run_id") <= (backfill.through[1], backfill.through[2], backfill.through[3]), false));
      BEGIN
        IF old_first AND old_counted THEN
          INSERT INTO "workflow_execution_count" AS c ("workflow_id", "state", "slot", "executions")
          VALUES (OLD."workflow_id", OLD."state", writer_slot, -1)
          ON CONFLICT ("workflow_id", "state", "slot") DO UPDATE SET "executions" = c."executions" - 1;
        END IF;
        IF new_counted THEN
          INSERT INTO "workflow_execution_count" AS c ("workflow_id", "state", "slot", "executions")
          VALUES (NEW."workflow_id", NEW."state", writer_slot, 1)
          ON CONFLICT ("workflow_id", "state", "slot") DO UPDATE SET "executions" = c."executions" + 1;
        END IF;
        IF NOT old_first AND old_counted THEN
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
     * The triggers take over and the counts start from nothing in one step:
     * writers wait for this transaction (no row is read here), then count
     * only what the back-fill has reached, which is nothing yet.
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
    // Counted after start, in batches that writers interleave with; the two indexes built CONCURRENTLY.
    this.addSql(queueTasksSql([COUNT_BACKFILL, ...COUNT_INDEXES.map(indexTask)]))

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
  }

  async down(): Promise<void> {
    this.addSql(forgetTasksSql([COUNT_BACKFILL, ...COUNT_INDEXES.map(indexTask)]))
    this.addSql(`DROP INDEX IF EXISTS "IDX_workflow_execution_transaction_id_trgm";`)
    this.addSql(`DROP INDEX IF EXISTS "IDX_workflow_execution_workflow_id_state_created_at";`)
    for (const name of ["insert", "delete", "update", "truncate"]) {
      this.addSql(`DROP TRIGGER IF EXISTS "workflow_execution_count_${name}" ON "workflow_execution";`)
    }
    this.addSql(`DROP FUNCTION IF EXISTS "workflow_execution_count_rows"();`)
    this.addSql(`DROP FUNCTION IF EXISTS "workflow_execution_count_update"();`)
    this.addSql(`DROP FUNCTION IF EXISTS "workflow_execution_count_truncate"();`)
    this.addSql(`DROP FUNCTION IF EXISTS "workflow_execution_counted_through"();`)
    this.addSql(`DROP TABLE IF EXISTS "workflow_execution_count";`)
  }
}

/** The indexes this migration leaves to the online upgrade (the trigram one only where pg_trgm exists). */
const COUNT_INDEXES = ["IDX_workflow_execution_workflow_id_state_created_at", "IDX_workflow_execution_transaction_id_trgm"]
