/**
 * What README "Filters" says a filter of workflow executions picks, written
 * in plain TypeScript over rows in memory, to hold the engine's SQL to. It
 * knows nothing of the engine's code: only the documented meaning of each
 * field, operator, list, `$and`/`$or`, `q` and `resource_id`, and SQL's rule that a
 * comparison with NULL holds for no row.
 */

export type Kind = "text" | "enum" | "date" | "integer"

/** The filterable columns of workflow_execution and what they hold. */
export const KINDS: Record<string, Kind> = {
  id: "text",
  workflow_id: "text",
  transaction_id: "text",
  run_id: "text",
  state: "enum",
  created_at: "date",
  updated_at: "date",
  deleted_at: "date",
  expires_at: "date",
  retention_time: "integer",
}

export type Row = {
  id: string
  workflow_id: string
  transaction_id: string
  run_id: string
  state: string
  created_at: Date
  updated_at: Date
  deleted_at: Date | null
  expires_at: Date | null
  retention_time: number | null
  /** The commerce ids the run is about; null in a row not yet back-filled. */
  resource_ids: string[] | null
}

/**
 * How the database's collation orders two strings (negative, 0, positive).
 * Text order is the collation's, not JavaScript's, so the spec asks the
 * database for it; everything else here is decided in TypeScript.
 */
export type TextOrder = (a: string, b: string) => number

type Filter = Record<string, unknown>

const isOperatorMap = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" &&
  value !== null &&
  !Array.isArray(value) &&
  !(value instanceof Date)

/** The rows `filters` picks, live ones only unless `withDeleted`. */
export function referenceFilter(
  rows: Row[],
  filters: Filter,
  withDeleted: boolean,
  order: TextOrder
): Row[] {
  return rows.filter(
    (row) =>
      (withDeleted || row.deleted_at === null) && matches(row, filters, order)
  )
}

function matches(row: Row, filter: Filter, order: TextOrder): boolean {
  return Object.entries(filter).every(([key, value]) => {
    if (value === undefined) {
      return true
    }
    if (key === "$and") {
      return (value as Filter[]).every((inner) => matches(row, inner, order))
    }
    if (key === "$or") {
      return (value as Filter[]).some((inner) => matches(row, inner, order))
    }
    if (key === "q") {
      return matchesSearch(row, value as string | null)
    }
    if (key === "resource_id") {
      return matchesResource(row, value as string | string[])
    }
    return matchesField(row[key as keyof Row], KINDS[key], value, order)
  })
}

// q: a case-insensitive substring of transaction_id, workflow_id or state; empty or null filters nothing.
function matchesSearch(row: Row, q: string | null): boolean {
  if (!q) {
    return true
  }
  const needle = q.toLowerCase()
  return [row.transaction_id, row.workflow_id, row.state].some((text) =>
    text.toLowerCase().includes(needle)
  )
}

// resource_id: the rows whose ids hold the one given, or any of a list (none for an empty list).
function matchesResource(row: Row, value: string | string[]): boolean {
  const wanted = Array.isArray(value) ? value : [value]
  return wanted.some((id) => (row.resource_ids ?? []).includes(id))
}

function matchesField(
  cell: unknown,
  kind: Kind,
  value: unknown,
  order: TextOrder
): boolean {
  if (Array.isArray(value)) {
    return matchesOperator(cell, kind, "$in", value, order)
  }
  if (isOperatorMap(value)) {
    return Object.entries(value).every(([operator, operand]) =>
      matchesOperator(cell, kind, operator, operand, order)
    )
  }
  return matchesOperator(cell, kind, "$eq", value, order)
}

function matchesOperator(
  cell: unknown,
  kind: Kind,
  operator: string,
  operand: unknown,
  order: TextOrder
): boolean {
  if (operator === "$nin" && (operand as unknown[]).length === 0) {
    // Not one of no values: every row, NULL or not.
    return true
  }
  if (cell === null) {
    return false
  }
  const compare = (other: unknown) => compareValues(cell, other, kind, order)
  switch (operator) {
    case "$eq":
      return compare(operand) === 0
    case "$ne":
      return compare(operand) !== 0
    case "$gt":
      return compare(operand) > 0
    case "$gte":
      return compare(operand) >= 0
    case "$lt":
      return compare(operand) < 0
    case "$lte":
      return compare(operand) <= 0
    case "$in":
      return (operand as unknown[]).some((other) => compare(other) === 0)
    case "$nin":
      return (operand as unknown[]).every((other) => compare(other) !== 0)
    case "$like":
      return likePattern(operand as string, "").test(cell as string)
    case "$ilike":
      return likePattern(operand as string, "i").test(cell as string)
  }
  throw new Error(`the reference filter has no operator ${operator}`)
}

function compareValues(
  cell: unknown,
  operand: unknown,
  kind: Kind,
  order: TextOrder
): number {
  switch (kind) {
    case "text":
    case "enum":
      return cell === operand ? 0 : order(cell as string, operand as string)
    case "date":
      return (
        (cell as Date).getTime() - new Date(operand as string | Date).getTime()
      )
    case "integer":
      return (cell as number) - (operand as number)
  }
}

/** SQL LIKE: `%` any run of characters, `_` one character, `\` takes the next character literally. */
export function likePattern(pattern: string, flags: string): RegExp {
  let source = ""
  const chars = [...pattern]
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]
    if (char === "\\") {
      source += escapeRegExp(chars[++i])
    } else if (char === "%") {
      source += "[\\s\\S]*"
    } else if (char === "_") {
      source += "[\\s\\S]"
    } else {
      source += escapeRegExp(char)
    }
  }
  return new RegExp(`^${source}$`, `u${flags}`)
}

function escapeRegExp(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char
}
