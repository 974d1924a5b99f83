import { Queryable } from "../../db"

/**
 * What `q` matches among live executions: the rows of workflows or states the
 * text matches come from the counters; the rows only their transaction_id
 * matches are counted through the trigram index, leaving out those already
 * counted. With `pattern` null, only the counters are read (the caller has
 * found the transaction id matches already).
 */
export async function countSearch(
  db: Queryable,
  pattern: string | null,
  workflowIds: string[],
  states: string[]
): Promise<number> {
  const byTransaction =
    pattern === null
      ? ""
      : `+ (SELECT count(*)
               FROM "workflow_execution"
              WHERE "deleted_at" IS NULL
                AND "transaction_id" ILIKE ?
                AND NOT ("workflow_id" = ANY(?::text[]) OR "state" = ANY(?::text[])))`
  const { rows } = await db.raw(
    `SELECT (SELECT coalesce(sum("executions"), 0)
               FROM "workflow_execution_count"
              WHERE "workflow_id" = ANY(?::text[]) OR "state" = ANY(?::text[]))
            ${byTransaction}
            AS executions`,
    pattern === null
      ? [workflowIds, states]
      : [workflowIds, states, pattern, workflowIds, states]
  )
  return Number(rows[0].executions)
}
