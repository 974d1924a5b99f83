import { FINISHED_STATES_SQL } from "../../transaction-states"
import { afterKey, ExecutionKey, throughKey, UpgradeConnection } from "./types"

/**
 * Finished rows (of the key range `from` .. `to`, SQL conditions) expire as
 * Medusa's engines would have expired them: updated_at + retention_time. An
 * expiry already set (by this engine, or by hand) is left as it is. A
 * migration on a small table runs it on every row ("true", "true").
 */
export function backfillExpirySql(from: string, to: string): string {
  return `UPDATE "workflow_execution"
        SET "expires_at" = "updated_at" + make_interval(secs => "retention_time")
      WHERE ${from} AND ${to}
        AND "expires_at" IS NULL
        AND "retention_time" IS NOT NULL
        AND "state" IN (${FINISHED_STATES_SQL})`
}

/** One batch of the expiry back-fill, one key range. Row locks only, for one short batch. */
export async function backfillExpiryBatch(
  db: UpgradeConnection,
  after: ExecutionKey | null,
  through: ExecutionKey | null
): Promise<number> {
  const from = afterKey(after, 1)
  const to = throughKey(through, 1 + from.values.length)
  const result = await db.query(backfillExpirySql(from.sql, to.sql), [...from.values, ...to.values])
  return result.rowCount ?? 0
}
