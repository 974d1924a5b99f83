import { Queryable } from "../../db"

/**
 * How many pages `workflow_execution` has now, and about how many rows a page
 * holds (from the table's statistics; null before the first ANALYZE). Read
 * from the catalog: no row is read.
 */
export async function tablePages(
  db: Queryable
): Promise<{ pages: number; rowsPerPage: number | null }> {
  const { rows } = await db.raw(
    `SELECT (pg_relation_size(c.oid) / current_setting('block_size')::int)::int AS pages,
            CASE WHEN c.relpages > 0 AND c.reltuples > 0 THEN c.reltuples / c.relpages END AS rows_per_page
       FROM pg_class c
      WHERE c.oid = to_regclass('"workflow_execution"')`
  )
  return {
    pages: rows[0].pages,
    rowsPerPage:
      rows[0].rows_per_page === null ? null : Number(rows[0].rows_per_page),
  }
}
