import { FINISHED_STATES_SQL } from "../../transaction-states"
import { Queryable } from "./types"

/** How many finished runs a purge would delete now, counting at most `limit`. */
export async function countExpired(db: Queryable, limit: number | null): Promise<number> {
  const result = await db.raw(
    `SELECT count(*)::int AS expired FROM (
       SELECT 1 FROM "workflow_execution"
        WHERE "expires_at" <= now()
          AND "state" IN (${FINISHED_STATES_SQL})
        LIMIT ?
     ) AS expired`,
    [limit]
  )
  return result.rows[0].expired
}
