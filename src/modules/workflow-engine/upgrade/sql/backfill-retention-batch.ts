import { ExecutionKey, keyRange, UpgradeConnection } from "./types"

/**
 * Rows (of the key range `range`, an SQL condition) from engines before
 * 2.8 get the retention that they kept only in the flow's options; rows
 * written since carry their retention_time already and are left alone. A
 * migration on a small table runs it on every row ("true").
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
