import { Queryable } from "../../storage/sql/types"

/** What a timer's run looks like now: its state and, for a step timer, that step. */
export type TimerTarget = { state: string; cancelled: boolean; step: any | null }

/** The newest run of the timer's transaction, reduced to what decides whether the timer still applies. */
export async function loadTimerTarget(
  db: Queryable,
  workflowId: string,
  transactionId: string,
  stepId: string | null
): Promise<TimerTarget | undefined> {
  const result = await db.raw(
    `SELECT "state", ("execution" ->> 'cancelledAt') IS NOT NULL AS "cancelled",
            CASE WHEN ?::text IS NULL THEN NULL ELSE "execution" -> 'steps' -> ?::text END AS "step"
       FROM "workflow_execution"
      WHERE "workflow_id" = ? AND "transaction_id" = ? AND "deleted_at" IS NULL
      ORDER BY "created_at" DESC, "id" DESC
      LIMIT 1`,
    [stepId, stepId, workflowId, transactionId]
  )
  return result.rows[0]
}
