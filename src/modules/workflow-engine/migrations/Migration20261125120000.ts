import { Migration } from "@medusajs/framework/mikro-orm/migrations"
import {
  forgetTasksSql,
  indexTask,
  inlineOrQueueSql,
} from "./frozen/upgrade-task-queue"

/**
 * Creates `workflow_execution` as Medusa's engines leave it, or aligns a table
 * one of them already created: every statement is idempotent, so a store that
 * switches from `@medusajs/workflow-engine-inmemory` or `-redis` keeps its rows.
 *
 * Nothing here reads the whole table: `medusa db:migrate` runs our pending
 * migrations in one transaction that holds the table's exclusive lock from
 * the first ALTER to its commit. What reads every row (the retention
 * back-fill, our index builds) is queued in `workflow_engine_upgrade_task`
 * and done by the module after start, online (see frozen/upgrade-task-queue.ts),
 * unless the table is small enough to do it here at once (an empty table on
 * a fresh install: then nothing is queued).
 * Only a table from an engine before 2.5 (no run_id) gets its primary key
 * rebuilt here, under that lock.
 */
export class Migration20261125120000 extends Migration {
  async up(): Promise<void> {
    // One row per piece of work left to the online upgrade; after_key is how far a back-fill got.
    this.addSql(`
      CREATE TABLE IF NOT EXISTS "workflow_engine_upgrade_task" (
        "name" text NOT NULL,
        "after_key" text[] NULL,
        "queued_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "workflow_engine_upgrade_task_pkey" PRIMARY KEY ("name")
      );
    `)

    this.addSql(`
      CREATE TABLE IF NOT EXISTS "workflow_execution" (
        "id" character varying NOT NULL,
        "workflow_id" character varying NOT NULL,
        "transaction_id" character varying NOT NULL,
        "run_id" text NOT NULL,
        "execution" jsonb NULL,
        "context" jsonb NULL,
        "state" character varying NOT NULL,
        "retention_time" integer NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "deleted_at" timestamptz NULL,
        CONSTRAINT "workflow_execution_pkey" PRIMARY KEY ("workflow_id", "transaction_id", "run_id")
      );
    `)

    // Tables created by Medusa engines older than 2.8 lack these columns.
    this.addSql(
      `ALTER TABLE "workflow_execution" ADD COLUMN IF NOT EXISTS "retention_time" integer NULL;`
    )
    // Rows from before the column kept their retention only in the flow's options: filled online, in batches.
    this.addSql(
      inlineOrQueueSql(
        [RETENTION_BACKFILL],
        [
          `UPDATE "workflow_execution"
        SET "retention_time" = ("execution" -> 'options' ->> 'retentionTime')::integer
      WHERE true
        AND "retention_time" IS NULL
        AND ("execution" -> 'options' ->> 'retentionTime') ~ '^[0-9]+$';`,
        ]
      )
    )
    this.addSql(
      `ALTER TABLE "workflow_execution" ADD COLUMN IF NOT EXISTS "run_id" text NOT NULL DEFAULT 'legacy';`
    )
    // The redis engine 2.5-2.7 made (workflow_id, transaction_id) unique, which
    // forbids running a finished transaction id again; Medusa dropped it with run_id.
    this.addSql(
      `DROP INDEX IF EXISTS "IDX_workflow_execution_workflow_id_transaction_id_unique";`
    )
    this.addSql(`
      DO $$
      DECLARE pk_name text;
      BEGIN
        SELECT c.conname INTO pk_name
          FROM pg_constraint c
         WHERE c.conrelid = 'workflow_execution'::regclass AND c.contype = 'p';
        IF pk_name IS NULL OR NOT EXISTS (
          SELECT 1
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
           WHERE c.conrelid = 'workflow_execution'::regclass AND c.contype = 'p' AND a.attname = 'run_id'
        ) THEN
          IF pk_name IS NOT NULL THEN
            EXECUTE format('ALTER TABLE "workflow_execution" DROP CONSTRAINT %I', pk_name);
          END IF;
          ALTER TABLE "workflow_execution"
            ADD CONSTRAINT "workflow_execution_pkey" PRIMARY KEY ("workflow_id", "transaction_id", "run_id");
        END IF;
      END $$;
    `)

    /*
     * Same names as Medusa's engines, so switching engines never duplicates an
     * index. Medusa's engines since 2.0 create them all: these build only on
     * tables older engines left, under the migration's lock.
     */
    for (const [name, columns] of [
      ["IDX_workflow_execution_deleted_at", `"deleted_at"`],
      ["IDX_workflow_execution_id", `"id"`],
      ["IDX_workflow_execution_workflow_id", `"workflow_id"`],
      ["IDX_workflow_execution_transaction_id", `"transaction_id"`],
      [
        "IDX_workflow_execution_workflow_id_transaction_id",
        `"workflow_id", "transaction_id"`,
      ],
      ["IDX_workflow_execution_state", `"state"`],
      ["IDX_workflow_execution_run_id", `"run_id"`],
    ]) {
      this.addSql(
        `CREATE INDEX IF NOT EXISTS "${name}" ON "workflow_execution" (${columns}) WHERE "deleted_at" IS NULL;`
      )
    }

    /*
     * The admin's list, newest first, and at most one in-flight run per
     * (workflow_id, transaction_id): two callers starting the same
     * transaction id at once are told apart by the database, not by a flag in
     * one process. Built CONCURRENTLY after start (see upgrade/deferred-indexes.ts),
     * or here on a small table; a table left by another engine may already
     * hold duplicates, and the guard is then skipped with a warning rather
     * than touching the rows (the online build warns alike).
     */
    this.addSql(
      inlineOrQueueSql(FIRST_INDEXES.map(indexTask), [
        `CREATE INDEX IF NOT EXISTS "IDX_workflow_execution_created_at" ON "workflow_execution" ("created_at" DESC) WHERE "deleted_at" IS NULL;`,
        `BEGIN CREATE UNIQUE INDEX IF NOT EXISTS "IDX_workflow_execution_in_flight_unique" ON "workflow_execution" ("workflow_id", "transaction_id") WHERE "deleted_at" IS NULL AND "state" IN ('not_started', 'invoking', 'waiting_to_compensate', 'compensating'); EXCEPTION WHEN unique_violation THEN RAISE WARNING 'workflow_execution holds several in-flight runs of one transaction; IDX_workflow_execution_in_flight_unique was not created'; END;`,
      ])
    )
  }

  /**
   * Removes only what this engine adds: the table itself is Medusa's shape and
   * may hold history that Medusa's engines read after switching back.
   */
  async down(): Promise<void> {
    this.addSql(
      forgetTasksSql([RETENTION_BACKFILL, ...FIRST_INDEXES.map(indexTask)])
    )
    this.addSql(
      `DROP INDEX IF EXISTS "IDX_workflow_execution_in_flight_unique";`
    )
    this.addSql(`DROP INDEX IF EXISTS "IDX_workflow_execution_created_at";`)
    this.addSql(`DROP TABLE IF EXISTS "workflow_engine_upgrade_task";`)
  }
}

/** The back-fill this migration leaves to the online upgrade (a task name: see frozen/upgrade-task-queue.ts). */
const RETENTION_BACKFILL = "backfill:retention_time"

/** The indexes this migration leaves to the online upgrade. */
const FIRST_INDEXES = [
  "IDX_workflow_execution_created_at",
  "IDX_workflow_execution_in_flight_unique",
]
