import { afterKey, ExecutionKey, throughKey, UpgradeConnection } from "./types"

/**
 * Rows (of the key range `from` .. `to`, SQL conditions) from engines before
 * 2.8 get the retention that they kept only in the flow's options; rows
 * written since carry their retention_time already and are left alone. A
 * migration on a small table runs it on every row ("true", "true").
 */
export function backfillRetentionSql(from: string, to: string): string {
  return `UPDATE "workflow_execution"
        SET "retention_time" = ("execution" -> 'options' ->> 'retentionTime')::integer
      WHERE ${from} AND ${to}
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
  const from = afterKey(after, 1)
  const to = throughKey(through, 1 + from.values.length)
  const result = await db.query(backfillRetentionSql(from.sql, to.sql), [...from.values, ...to.values])
  return result.rowCount ?? 0
}
