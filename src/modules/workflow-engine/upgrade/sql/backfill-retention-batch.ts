import { ExecutionKey, keyRange, UpgradeConnection } from "./types"

/**
 * Rows (of the key range `range`, an SQL condition) from engines before
 * 2.8 get the retention that they kept only in the flow's options; rows
 * written since carry their retention_time already and are left alone. The
 * migration that queues this back-fill runs the same on every row of a small
 * table ("true"), from its own SQL: this must stay what that runs
 * (frozen-migrations.spec.ts compares them).
 */
export function backfillRetentionSql(range: string): string {
  return `UPDATE "workflow_execution"
        SET "retention_time" = ("execution" -> 'options' ->> 'retentionTime')::integer
      WHERE ${range}
        AND "retention_time" IS NULL
        AND ("execution" -> 'options' ->> 'retentionTime') ~ '^[0-9]+$'`
}

/**
 * One batch of the retention back-fill, one key range. Row locks only, for
 * one short batch: a writer of one of these rows waits for the batch at most.
 */
export async function backfillRetentionBatch(
  db: UpgradeConnection,
  after: ExecutionKey | null,
  through: ExecutionKey | null
): Promise<number> {
  const range = keyRange(after, through)
  const result = await db.query(backfillRetentionSql(range.sql), range.values)
  return result.rowCount ?? 0
}
