import { Queryable } from "../../db"

/**
 * Live executions (not soft-deleted) of the given workflows and states, from
 * the counters the table's triggers keep; an absent list means "any". The
 * counters change in the same transaction as the rows, so the sum is exact as
 * of the statement's snapshot, and it reads a few hundred rows at most.
 */
export async function sumCounters(
  db: Queryable,
  workflowIds: string[] | null,
  states: string[] | null
): Promise<number> {
  const { rows } = await db.raw(
    `SELECT coalesce(sum("executions"), 0)::bigint AS executions
       FROM "workflow_execution_count"
      WHERE (?::text[] IS NULL OR "workflow_id" = ANY(?::text[]))
        AND (?::text[] IS NULL OR "state" = ANY(?::text[]))`,
    [workflowIds, workflowIds, states, states]
  )
  return Number(rows[0].executions)
}
