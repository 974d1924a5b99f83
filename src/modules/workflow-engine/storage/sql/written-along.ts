import { Queryable, WrittenAlong } from "../../db"

/**
 * Applies what is written along a run's write (see WrittenAlong) on its own,
 * in the open transaction that wrote the run: under the lock, for a finished
 * run that had no row (inserted, or nothing to remove).
 */
export async function writeAlong(
  trx: Queryable,
  along: WrittenAlong[]
): Promise<void> {
  if (!along.length) {
    return
  }
  await trx.raw(
    `WITH "written" AS (SELECT 1)${along.map((part) => `, ${part.sql}`).join("")} SELECT 1`,
    along.flatMap((part) => part.bindings)
  )
}
