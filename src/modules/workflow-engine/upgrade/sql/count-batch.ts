import { COUNT_BACKFILL, UPGRADE_TASK_TABLE } from "../upgrade-tasks"
import { ExecutionKey, keyRange, UpgradeConnection } from "./types"

/**
 * Takes the table in SHARE ROW EXCLUSIVE mode for one batch: readers go on,
 * writers wait until the batch commits, and the batch waits for the writers
 * already in their transactions. No write is therefore in progress while the
 * batch counts its range and moves the count triggers' boundary past it: a
 * write committed before is in the rows counted here, a write after is
 * counted by its trigger, which reads the new boundary. `lock_timeout`
 * bounds how long writers queue behind a batch that itself waits for a long
 * transaction; the caller then tries again.
 */
export async function lockForCounting(
  db: UpgradeConnection,
  lockTimeoutMs: number
): Promise<ExecutionKey | null> {
  await db.query(`SELECT set_config('lock_timeout', $1, true)`, [
    `${lockTimeoutMs}ms`,
  ])
  await db.query(`LOCK TABLE "workflow_execution" IN SHARE ROW EXCLUSIVE MODE`)
  const { rows } = await db.query(
    `SELECT "after_key" FROM "${UPGRADE_TASK_TABLE}" WHERE "name" = $1 FOR UPDATE`,
    [COUNT_BACKFILL]
  )
  if (!rows.length) {
    throw new Error(`${COUNT_BACKFILL} is no longer queued`)
  }
  return rows[0].after_key
}

/** Adds the live rows of one key range to the counters (slot 0), by workflow and state. */
export async function countBatch(
  db: UpgradeConnection,
  after: ExecutionKey | null,
  through: ExecutionKey | null
): Promise<number> {
  const range = keyRange(after, through)
  const result = await db.query(
    `INSERT INTO "workflow_execution_count" AS c ("workflow_id", "state", "slot", "executions")
     SELECT "workflow_id", "state", 0, count(*)
       FROM "workflow_execution"
      WHERE ${range.sql} AND "deleted_at" IS NULL
      GROUP BY "workflow_id", "state"
      ORDER BY "workflow_id", "state"
     ON CONFLICT ("workflow_id", "state", "slot")
     DO UPDATE SET "executions" = c."executions" + excluded."executions"`,
    range.values
  )
  return result.rowCount ?? 0
}
