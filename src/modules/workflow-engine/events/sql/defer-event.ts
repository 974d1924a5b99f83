import { Queryable } from "../../db"

/**
 * Records a failed hand-over to the event bus, in the transaction that
 * claimed the event (its row lock is held): tried again `retryInSeconds`
 * from now on the database clock, or never again when null (past the bound
 * of attempts: the row stays, undelivered, and the storage report counts it
 * as given up: `next_attempt_at` = infinity).
 */
export async function deferEvent(
  trx: Queryable,
  id: string,
  error: string,
  retryInSeconds: number | null
): Promise<void> {
  await trx.raw(
    `UPDATE "workflow_engine_event"
        SET "attempts" = "attempts" + 1, "last_error" = ?,
            "next_attempt_at" = COALESCE(now() + make_interval(secs => ?::double precision), 'infinity')
      WHERE "id" = ?`,
    [error, retryInSeconds, id]
  )
}
