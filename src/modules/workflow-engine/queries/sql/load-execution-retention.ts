import { EXPIRY_BEFORE_BACKFILL_SQL } from "../../expiry"
import { Queryable } from "../../db"

export type ExecutionRetentionRow = {
  id: string
  workflow_id: string
  transaction_id: string
  state: string
  retention_time: number | null
  /** Its expiry; for a finished row still without one, the one the expiry back-fill will give it. */
  expires_at: Date | null
  /** Past its expiry by the database clock: the next purge pass deletes it. */
  expired: boolean
  /** The workflow's own `retentionTime`, as its flow was stored; `retention_time` for a row without a flow. */
  workflow_retention_time: number | null
}

/** One live execution's retention columns, by its `wf_exec_…` id (IDX_workflow_execution_id). */
export async function loadExecutionRetention(
  db: Queryable,
  id: string
): Promise<ExecutionRetentionRow | undefined> {
  const { rows } = await db.raw(
    `SELECT "id", "workflow_id", "transaction_id", "state", "retention_time", ${EXPIRY_BEFORE_BACKFILL_SQL} AS "expires_at",
            coalesce(${EXPIRY_BEFORE_BACKFILL_SQL} <= now(), false) AS expired,
            -- A row without a stored flow (an import) only has what it was given.
            CASE WHEN jsonb_typeof("execution"->'options') IS DISTINCT FROM 'object' THEN "retention_time"
                 WHEN jsonb_typeof("execution"->'options'->'retentionTime') = 'number'
                 THEN ("execution"->'options'->>'retentionTime')::float8 END AS workflow_retention_time
       FROM "workflow_execution"
      WHERE "id" = ? AND "deleted_at" IS NULL
      LIMIT 1`,
    [id]
  )
  return rows[0]
}
