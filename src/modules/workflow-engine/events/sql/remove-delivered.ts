import { Queryable } from "../../db"

/**
 * Deletes up to `limit` events delivered more than `keptSeconds` ago, oldest
 * first, through their index. Safe under concurrency: a delivered row is
 * never written again, and two instances deleting the same rows at once
 * delete each once.
 */
export async function removeDelivered(
  db: Queryable,
  keptSeconds: number,
  limit: number
): Promise<number> {
  const result = await db.raw(
    `DELETE FROM "workflow_engine_event"
      WHERE "id" IN (SELECT "id" FROM "workflow_engine_event"
                      WHERE "delivered_at" < now() - make_interval(secs => ?::int)
                      ORDER BY "delivered_at" LIMIT ?)`,
    [keptSeconds, limit]
  )
  return result.rowCount ?? 0
}
