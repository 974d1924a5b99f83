import { Queryable } from "./types"

/**
 * Deletes finished executions whose retention (seconds) has passed, by the
 * database clock. Runs in flight are never touched, whatever their age.
 */
export async function deleteExpiredExecutions(db: Queryable): Promise<number> {
  const result = await db.raw(
    `DELETE FROM "workflow_execution"
      WHERE "retention_time" IS NOT NULL
        AND "state" IN ('done', 'failed', 'reverted')
        AND "updated_at" <= now() - make_interval(secs => "retention_time")`
  )
  return result.rowCount ?? 0
}
