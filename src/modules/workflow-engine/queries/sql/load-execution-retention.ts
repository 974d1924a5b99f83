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
  /** Set while someone keeps it from the purge; its expiry is then the one set aside. */
  kept_at: Date | null
  kept_by: string | null
  kept_reason: string | null
}

/** One live execution's retention columns, by its `wf_exec_…` id (IDX_workflow_execution_id). */
export async function loadExecutionRetention(
  db: Queryable,
  id: string
): Promise<ExecutionRetentionRow | undefined> {
  const { rows } = await db.raw(
    `SELECT "id", "workflow_id", "transaction_id", "state", "retention_time",
            -- A kept run's own expiry is the one set aside; its expires_at only keeps the purge away.
            CASE WHEN "kept_at" IS NULL THEN ${EXPIRY_BEFORE_BACKFILL_SQL} ELSE "kept_expires_at" END AS "expires_at",
            "kept_at" IS NULL AND coalesce(${EXPIRY_BEFORE_BACKFILL_SQL} <= now(), false) AS expired,
            "kept_at", "kept_by", "kept_reason",
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
