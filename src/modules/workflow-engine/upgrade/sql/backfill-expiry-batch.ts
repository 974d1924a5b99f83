import { afterKey, ExecutionKey, throughKey, UpgradeConnection } from "./types"

/**
 * Finished rows of one key range expire as Medusa's engines would have
 * expired them: updated_at + retention_time. Row locks only, for one short
 * batch; an expiry already set (by this engine, or by hand) is left as it is.
 */
export async function backfillExpiryBatch(
  db: UpgradeConnection,
  after: ExecutionKey | null,
  through: ExecutionKey | null
): Promise<number> {
  const from = afterKey(after, 1)
  const to = throughKey(through, 1 + from.values.length)
  const result = await db.query(
    `UPDATE "workflow_execution"
        SET "expires_at" = "updated_at" + make_interval(secs => "retention_time")
      WHERE ${from.sql} AND ${to.sql}
        AND "expires_at" IS NULL
        AND "retention_time" IS NOT NULL
        AND "state" IN ('done', 'failed', 'reverted')`,
    [...from.values, ...to.values]
  )
  return result.rowCount ?? 0
}
