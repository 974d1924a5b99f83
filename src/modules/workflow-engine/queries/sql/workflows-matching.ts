import { Queryable } from "../../db"

/**
 * The workflow ids of live executions that contain `pattern`, and whether
 * transaction ids have their trigram index (one round trip for both). The
 * counters hold each (workflow, state) group once, so this reads a few
 * hundred rows, however large the table is.
 */
export async function workflowsMatching(
  db: Queryable,
  pattern: string
): Promise<{ workflowIds: string[]; trigramIndexed: boolean }> {
  const { rows } = await db.raw(
    `SELECT array(
              SELECT "workflow_id"
                FROM "workflow_execution_count"
               WHERE "workflow_id" ILIKE ?
               GROUP BY "workflow_id"
              HAVING sum("executions") > 0
            ) AS workflow_ids,
            to_regclass('"IDX_workflow_execution_transaction_id_trgm"') IS NOT NULL AS trigram_indexed`,
    [pattern]
  )
  return {
    workflowIds: rows[0].workflow_ids,
    trigramIndexed: rows[0].trigram_indexed,
  }
}
