/*
 * FROZEN with Migration20261126090000: the functions its count triggers run,
 * as it installs them. Editing this file rewrites what that migration did on
 * every store that ran it; live code never imports it. The online upgrade's
 * last counting batch installs the plain ones again from its own copy
 * (upgrade/count-trigger-functions.ts), which must stay what this installs.
 *
 * Two sets: the plain ones, which every write runs once the counts are
 * whole, and the bounded ones, which count only rows up to the key the
 * online counting back-fill reached, while it runs. A small table (a fresh
 * install) only ever has the plain ones; a large one has the bounded ones
 * from the migration until the back-fill's last batch swaps them for the
 * plain ones, so once the upgrade is done no write reads
 * workflow_engine_upgrade_task.
 */

/** The task row of the counting back-fill; its `after_key` is how far the rows are counted. */
export const COUNT_BACKFILL = "backfill:count"

/** Reads how far the counting back-fill got; only the bounded functions call it. */
export const COUNTED_THROUGH_FUNCTION = "workflow_execution_counted_through"

/**
 * Counts move in the same transaction as the rows they count, whichever
 * engine or statement writes them, so a committed count is always exact.
 * Inserts and deletes are counted per statement (one purge batch is one
 * upsert per group, not one per row); updates per row, and only those that
 * change what is counted. The update function runs once per run that
 * changes state, on the hot path: two plain upserts, the group that sorts
 * first first, so two writers moving runs between the same two groups in
 * opposite directions never deadlock.
 *
 * Bounded (while the counting back-fill runs), a row counts only once the
 * back-fill has reached its key; the back-fill counts the rest as it gets
 * there. Each counting batch holds the table's SHARE ROW EXCLUSIVE lock, so
 * no trigger runs while the boundary moves, and a trigger (READ COMMITTED:
 * each statement of a volatile function reads anew) sees the boundary of the
 * last committed batch. FOR KEY SHARE makes a writer whose snapshot is older
 * than that batch (REPEATABLE READ) fail with a serialization error instead
 * of counting against a stale boundary.
 */
function countFunctionsSql(bounded: boolean): string[] {
  const declareBackfill = bounded
    ? `backfill record := "${COUNTED_THROUGH_FUNCTION}"();`
    : ""
  const reached = (key: string) =>
    bounded
      ? ` AND (NOT backfill.pending OR coalesce(${key} <= (backfill.through[1], backfill.through[2], backfill.through[3]), false))`
      : ""
  const rowKey = `("workflow_id", "transaction_id", "run_id")`
  const counted = (row: "OLD" | "NEW") =>
    `${row}."deleted_at" IS NULL${reached(`(${row}."workflow_id", ${row}."transaction_id", ${row}."run_id")`)}`
  return [
    `
  CREATE OR REPLACE FUNCTION "workflow_execution_count_rows"() RETURNS trigger
  LANGUAGE plpgsql AS $$
  ${
    bounded
      ? `DECLARE
    ${declareBackfill}`
      : ""
  }
  BEGIN
    IF TG_OP = 'INSERT' THEN
      INSERT INTO "workflow_execution_count" AS c ("workflow_id", "state", "slot", "executions")
      SELECT "workflow_id", "state", pg_backend_pid() % 8, count(*)
        FROM new_rows WHERE "deleted_at" IS NULL${reached(rowKey)}
       GROUP BY "workflow_id", "state"
       -- One lock order for every writer, so two statements never deadlock on counters.
       ORDER BY "workflow_id", "state"
      ON CONFLICT ("workflow_id", "state", "slot")
      DO UPDATE SET "executions" = c."executions" + excluded."executions";
    ELSE
      INSERT INTO "workflow_execution_count" AS c ("workflow_id", "state", "slot", "executions")
      SELECT "workflow_id", "state", pg_backend_pid() % 8, -count(*)
        FROM old_rows WHERE "deleted_at" IS NULL${reached(rowKey)}
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
    ${declareBackfill}
    old_counted boolean := ${counted("OLD")};
    new_counted boolean := ${counted("NEW")};
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
}

/** Every row counted: what a small table gets, and what the back-fill's last batch swaps the bounded ones for. */
export const PLAIN_COUNT_FUNCTIONS_SQL: string[] = countFunctionsSql(false)

/** Only rows up to the key the counting back-fill reached: what a large table gets until the back-fill is done. */
export const BOUNDED_COUNT_FUNCTIONS_SQL: string[] = [
  `
  CREATE OR REPLACE FUNCTION "${COUNTED_THROUGH_FUNCTION}"(OUT pending boolean, OUT through text[])
  LANGUAGE plpgsql AS $$
  BEGIN
    SELECT true, t."after_key" INTO pending, through
      FROM "workflow_engine_upgrade_task" t WHERE t."name" = '${COUNT_BACKFILL}' FOR KEY SHARE;
    pending := coalesce(pending, false);
  END $$;
  `,
  ...countFunctionsSql(true),
]
