import { isLive } from "../../instances/sql/live-instance"
import { Queryable, RunKey } from "../../db"
import { isInFlightRow } from "../../transaction-states"

/** A run in flight whose last checkpoint was written by an instance that is no longer alive. */
export type OrphanedRun = RunKey & { owner_instance_id: string }

/**
 * Runs in flight owned by dead instances. Rows of Medusa's own engines have
 * no owner and are left alone. The state list is the in-flight index's, so
 * only in-flight rows are read.
 */
export async function findOrphanedRuns(
  db: Queryable,
  limit: number
): Promise<OrphanedRun[]> {
  const result = await db.raw(
    `SELECT e."workflow_id", e."transaction_id", e."run_id", e."owner_instance_id"
       FROM "workflow_execution" e
      WHERE ${isInFlightRow(`e`)}
        AND e."owner_instance_id" IS NOT NULL
        AND NOT ${isLive(`e."owner_instance_id"`)}
      LIMIT ?`,
    [limit]
  )
  return result.rows
}
