/** Reads how far the counting back-fill got; only the bounded functions call it. */
const COUNTED_THROUGH_FUNCTION = "workflow_execution_counted_through"

/*
 * The functions the count triggers run, once the counts are whole. The
 * counting migration (Migration20261126090000) installs them itself on a
 * small table; on a large one it installs bounded ones, which count only
 * the rows up to the key the counting back-fill reached, and read that key
 * from workflow_engine_upgrade_task on every write. The back-fill's last
 * batch swaps them for these. The migration's copy
 * (migrations/frozen/Migration20261126090000-count-functions.ts) is history:
 * these must stay what it installs (frozen-migrations.spec.ts compares them)
 * until a new migration redefines the functions, and then what that one
 * installs.
 *
 * Counts move in the same transaction as the rows they count, whichever
 * engine or statement writes them, so a committed count is always exact.
 * Inserts and deletes are counted per statement (one purge batch is one
 * upsert per group, not one per row); updates per row, and only those that
 * change what is counted. The update function runs once per run that
 * changes state, on the hot path: two plain upserts, the group that sorts
 * first first, so two writers moving runs between the same two groups in
 * opposite directions never deadlock.
 */
const PLAIN_COUNT_FUNCTIONS_SQL: string[] = [
  `
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
  `,
  `
  CREATE OR REPLACE FUNCTION "workflow_execution_count_update"() RETURNS trigger
  LANGUAGE plpgsql AS $$
  DECLARE
    writer_slot smallint := pg_backend_pid() % 8;
    old_first boolean := (OLD."workflow_id", OLD."state"::text) <= (NEW."workflow_id", NEW."state"::text);
    old_counted boolean := OLD."deleted_at" IS NULL;
    new_counted boolean := NEW."deleted_at" IS NULL;
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
  `,
]

/** Run by the counting back-fill's last batch, in its transaction: every row is counted from then on. */
export const FINISH_COUNTING_SQL: string[] = [
  ...PLAIN_COUNT_FUNCTIONS_SQL,
  `DROP FUNCTION IF EXISTS "${COUNTED_THROUGH_FUNCTION}"()`,
]
