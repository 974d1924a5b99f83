import { Queryable } from "../../db"

/**
 * Of the given tables and their columns, those the current schema lacks, in
 * the order given: a missing table by its name, a missing column as `table.column`.
 */
export async function missingColumns(
  db: Queryable,
  expected: Record<string, string[]>
): Promise<string[]> {
  const pairs = Object.entries(expected).flatMap(([table, columns]) =>
    columns.map((column) => [table, column])
  )
  const { rows } = await db.raw(
    `SELECT e.table_name, e.column_name, to_regclass(quote_ident(e.table_name)) IS NOT NULL AS has_table
       FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS e(table_name, column_name, position)
      WHERE NOT EXISTS (
              SELECT 1 FROM information_schema.columns c
               WHERE c.table_schema = current_schema() AND c.table_name = e.table_name AND c.column_name = e.column_name
            )
      ORDER BY e.position`,
    [pairs.map(([table]) => table), pairs.map(([, column]) => column)]
  )
  const missing = new Set<string>()
  for (const row of rows) {
    missing.add(
      row.has_table ? `${row.table_name}.${row.column_name}` : row.table_name
    )
  }
  return [...missing]
}
