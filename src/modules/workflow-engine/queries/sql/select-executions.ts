import { Queryable } from "../../db"
import { DirectLookup } from "../direct-lookup"
import { COLUMNS } from "../execution-fields"

/**
 * The rows of a direct lookup, live ones only, as plain objects of the model's
 * columns. Without a selection it reads `*`, as the ORM does, so that a table
 * still missing a column of ours (migrations reverted) reads as it did.
 */
export async function selectExecutions(
  db: Queryable,
  lookup: DirectLookup
): Promise<Record<string, unknown>[]> {
  const bindings: (string | string[])[] = []
  const conditions = lookup.where.map(({ column, values }) => {
    if (values.length === 1) {
      bindings.push(values[0])
      return `"${column}" = ?`
    }
    bindings.push(values)
    return `"${column}" = ANY(?)`
  })
  const limit = lookup.take !== undefined ? ` LIMIT ${Number(lookup.take)}` : ""
  const offset = lookup.skip ? ` OFFSET ${Number(lookup.skip)}` : ""
  const result = await db.raw(
    `SELECT ${lookup.columns ? lookup.columns.map((column) => `"${column}"`).join(", ") : "*"}
       FROM "workflow_execution"
      WHERE "deleted_at" IS NULL${conditions.map((condition) => ` AND ${condition}`).join("")}
      ORDER BY ${lookup.order.map(({ column, direction }) => `"${column}" ${direction}`).join(", ")}${limit}${offset}`,
    bindings
  )
  return lookup.columns ? result.rows : result.rows.map(modelColumns)
}

function modelColumns(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const column of COLUMNS) {
    if (column in row) {
      out[column] = row[column]
    }
  }
  return out
}
