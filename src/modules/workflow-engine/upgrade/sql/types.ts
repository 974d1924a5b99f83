import type { Client } from "pg"

/** The online upgrade's own connection: index builds CONCURRENTLY need one outside any transaction. */
export type UpgradeConnection = Pick<Client, "query">

/** A primary key of `workflow_execution`, in its order: workflow_id, transaction_id, run_id. */
export type ExecutionKey = [string, string, string]

type Condition = { sql: string; values: string[] }

function keyBound(
  operator: ">" | "<=",
  key: ExecutionKey | null,
  firstParameter: number
): Condition {
  if (!key) {
    return { sql: "true", values: [] }
  }
  const [a, b, c] = [firstParameter, firstParameter + 1, firstParameter + 2]
  return {
    sql: `("workflow_id", "transaction_id", "run_id") ${operator} ($${a}, $${b}, $${c})`,
    values: key,
  }
}

/** Rows after `after` (all rows when null), in primary key order. */
export function afterKey(
  after: ExecutionKey | null,
  firstParameter: number
): Condition {
  return keyBound(">", after, firstParameter)
}

/** Rows after `after` up to `through` (either end open when null): one batch's key range, from parameter $1. */
export function keyRange(
  after: ExecutionKey | null,
  through: ExecutionKey | null
): Condition {
  const from = afterKey(after, 1)
  const to = keyBound("<=", through, 1 + from.values.length)
  return {
    sql: `${from.sql} AND ${to.sql}`,
    values: [...from.values, ...to.values],
  }
}
