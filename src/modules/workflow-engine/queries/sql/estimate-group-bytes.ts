import { Queryable } from "../../db"

/** Live executions of one workflow in one state, and an estimate of the bytes they take. */
export type ExecutionGroup = {
  workflow_id: string
  state: string
  executions: number
  /**
   * Mean stored size of the sampled rows' values times `executions`; null when
   * none was sampled. While the upgrade is pending, the rows' exact sum (scanStorage).
   */
  estimated_bytes: number | null
}

/** Rows sampled per (workflow, state) group for the size estimate. */
export const SIZE_SAMPLE_ROWS = 20

/**
 * The stored size of a row `e` of workflow_execution, in bytes: pg_column_size
 * of each value is its stored (compressed, possibly TOASTed) size, what the
 * row takes on disk without page and index overhead.
 */
export function rowBytesSql(e: string): string {
  return `pg_column_size(${e}."id") + pg_column_size(${e}."workflow_id") + pg_column_size(${e}."transaction_id")
                  + pg_column_size(${e}."run_id") + pg_column_size(${e}."state")
                  + coalesce(pg_column_size(${e}."execution"), 0) + coalesce(pg_column_size(${e}."context"), 0)
                  -- retention_time, expires_at, created_at, updated_at, deleted_at, tuple header
                  + 60`
}

/**
 * Every (workflow, state) group with its exact count, from the counters the
 * table's triggers keep, and its size estimated from its newest
 * SIZE_SAMPLE_ROWS rows (read through IDX_workflow_execution_workflow_id_state_created_at),
 * so the cost is bounded by the number of groups, never by the table. Needs
 * the online upgrade done (see upgrade/); until then scanStorage reads the table.
 */
export async function estimateGroupBytes(
  db: Queryable
): Promise<ExecutionGroup[]> {
  const { rows } = await db.raw(
    `SELECT c."workflow_id", c."state", c."executions", s."mean_bytes"
       FROM (SELECT "workflow_id", "state", sum("executions")::bigint AS "executions"
               FROM "workflow_execution_count"
              GROUP BY "workflow_id", "state"
             HAVING sum("executions") > 0) AS c
       LEFT JOIN LATERAL (
         SELECT avg(${rowBytesSql("e")})::float8 AS "mean_bytes"
           FROM (SELECT * FROM "workflow_execution" AS w
                  WHERE w."workflow_id" = c."workflow_id" AND w."state" = c."state" AND w."deleted_at" IS NULL
                  ORDER BY w."created_at" DESC
                  LIMIT ?) AS e
       ) AS s ON true
      ORDER BY c."workflow_id", c."state"`,
    [SIZE_SAMPLE_ROWS]
  )
  return rows.map(
    (row: {
      workflow_id: string
      state: string
      executions: string
      mean_bytes: number | null
    }) => {
      const executions = Number(row.executions)
      return {
        workflow_id: row.workflow_id,
        state: row.state,
        executions,
        estimated_bytes:
          row.mean_bytes === null
            ? null
            : Math.round(row.mean_bytes * executions),
      }
    }
  )
}
