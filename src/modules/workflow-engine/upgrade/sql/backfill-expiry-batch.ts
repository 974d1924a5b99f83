import { MEDUSA_EXPIRY_SQL } from "../../expiry"
import { FINISHED_STATES_SQL } from "../../transaction-states"
import { ExecutionKey, keyRange, UpgradeConnection } from "./types"

/**
 * Finished rows (of the key range `range`, an SQL condition) expire as
 * Medusa's engines would have expired them: updated_at + retention_time. An
 * expiry already set (by this engine, or by hand) is left as it is. The
 * migration that queues this back-fill runs the same on every row of a small
 * table ("true"), from its own SQL: this must stay what that runs
 * (frozen-migrations.spec.ts compares them).
 */
export function backfillExpirySql(range: string): string {
  return `UPDATE "workflow_execution"
        SET "expires_at" = ${MEDUSA_EXPIRY_SQL}
      WHERE ${range}
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
  const range = keyRange(after, through)
  const result = await db.query(backfillExpirySql(range.sql), range.values)
  return result.rowCount ?? 0
}
