import { Queryable } from "../../db"
import { isInFlightRow } from "../../transaction-states"

/**
 * Removes the lease rows of dead instances that own no run in flight any
 * more: their work was taken over. A dead instance's row stays while a run
 * of it could not be recovered here (a workflow this instance does not know).
 */
export async function reapInstances(db: Queryable): Promise<number> {
  const result = await db.raw(
    `DELETE FROM "workflow_engine_instance" i
      WHERE i."lease_expires_at" <= now()
        AND NOT EXISTS (SELECT 1 FROM "workflow_execution" e
                         WHERE e."owner_instance_id" = i."id"
                           AND ${isInFlightRow(`e`)})`
  )
  return result.rowCount ?? 0
}
