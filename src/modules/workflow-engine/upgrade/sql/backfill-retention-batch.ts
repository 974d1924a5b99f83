import { afterKey, ExecutionKey, throughKey, UpgradeConnection } from "./types"

/**
 * Rows of one key range from engines before 2.8 get the retention that they
 * kept only in the flow's options. Row locks only, for one short batch: a
 * writer of one of these rows waits for the batch at most; rows written
 * since carry their retention_time already and are left alone.
 */
export async function backfillRetentionBatch(
  db: UpgradeConnection,
  after: ExecutionKey | null,
  through: ExecutionKey | null
): Promise<number> {
  const from = afterKey(after, 1)
  const to = throughKey(through, 1 + from.values.length)
  const result = await db.query(
    `UPDATE "workflow_execution"
        SET "retention_time" = ("execution" -> 'options' ->> 'retentionTime')::integer
      WHERE ${from.sql} AND ${to.sql}
        AND "retention_time" IS NULL
        AND ("execution" -> 'options' ->> 'retentionTime') ~ '^[0-9]+$'`,
    [...from.values, ...to.values]
  )
  return result.rowCount ?? 0
}
