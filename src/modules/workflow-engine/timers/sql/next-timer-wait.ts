import { Queryable } from "../../db"

/**
 * Milliseconds until some timer may become claimable: a free one's due time,
 * or, for a claimed one, the later of its due time and its claimer's lease
 * (a claimer that dies is taken over right when its lease runs out). Null
 * when there is no timer at all.
 */
export async function nextTimerWaitMs(db: Queryable): Promise<number | null> {
  const result = await db.raw(
    `SELECT EXTRACT(EPOCH FROM min(GREATEST(t."due_at", COALESCE(i."lease_expires_at", t."due_at"))) - clock_timestamp()) * 1000 AS "wait_ms"
       FROM "workflow_execution_timer" t
       LEFT JOIN "workflow_engine_instance" i ON i."id" = t."claimed_by"`
  )
  const wait = result.rows[0]?.wait_ms
  return wait === null || wait === undefined ? null : Math.max(0, Number(wait))
}
