import { Queryable } from "../../db"

/**
 * Milliseconds until the next event waiting for a retry is due, on the
 * database clock (0 when one is due now), or null when none waits (given-up
 * events, due at infinity, wait for nobody). Reads the pending events' index
 * only. The clamp at 0 is done here, not by GREATEST in the SQL: GREATEST
 * skips a NULL, so an empty outbox would read as "due now" and the deliverer
 * would pass again at once, for ever.
 */
export async function nextEventWait(db: Queryable): Promise<number | null> {
  const { rows } = await db.raw(
    `SELECT ceil(extract(epoch FROM (min("next_attempt_at") - now())) * 1000)::bigint AS "wait_ms"
       FROM "workflow_engine_event"
      WHERE "delivered_at" IS NULL AND "next_attempt_at" < 'infinity'`
  )
  const wait = rows[0]?.wait_ms
  return wait === null || wait === undefined ? null : Math.max(0, Number(wait))
}
