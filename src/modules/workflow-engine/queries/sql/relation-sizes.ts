import { Queryable } from "../../db"

/** Bytes on disk of workflow_execution, from Postgres' catalog (no row is read). */
export type RelationSizes = {
  /** The table's own pages, with its free space and visibility maps. */
  table_bytes: number
  /** Values too large for a page (execution and context JSON), stored aside. */
  toast_bytes: number
  index_bytes: number
  total_bytes: number
}

export async function relationSizes(db: Queryable): Promise<RelationSizes> {
  const { rows } = await db.raw(
    // pg_table_size counts the maps and TOAST too; TOAST is taken out, so the three parts add up to the total
    // (pg_relation_size, the main fork alone, left the maps out once a vacuum had made them).
    `SELECT pg_table_size(t.oid) - coalesce(pg_total_relation_size(nullif(t.reltoastrelid, 0)), 0) AS table_bytes,
            coalesce(pg_total_relation_size(nullif(t.reltoastrelid, 0)), 0) AS toast_bytes,
            pg_indexes_size(t.oid) AS index_bytes,
            pg_total_relation_size(t.oid) AS total_bytes
       FROM pg_class t
      WHERE t.oid = to_regclass('"workflow_execution"')`
  )
  const row = rows[0]
  return {
    table_bytes: Number(row.table_bytes),
    toast_bytes: Number(row.toast_bytes),
    index_bytes: Number(row.index_bytes),
    total_bytes: Number(row.total_bytes),
  }
}
