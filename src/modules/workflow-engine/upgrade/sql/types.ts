import type { Client } from "pg"

/** The online upgrade's own connection: index builds CONCURRENTLY need one outside any transaction. */
export type UpgradeConnection = Pick<Client, "query">

/** A primary key of `workflow_execution`, in its order: workflow_id, transaction_id, run_id. */
export type ExecutionKey = [string, string, string]

/** Rows after `after` (all rows when null), in primary key order. */
export function afterKey(after: ExecutionKey | null, firstParameter: number): { sql: string; values: string[] } {
  if (!after) {
    return { sql: "true", values: [] }
  }
  const [a, b, c] = [firstParameter, firstParameter + 1, firstParameter + 2]
  return { sql: `("workflow_id", "transaction_id", "run_id") > ($${a}, $${b}, $${c})`, values: after }
}

/** Rows up to `through` (all the rest when null), in primary key order. */
export function throughKey(through: ExecutionKey | null, firstParameter: number): { sql: string; values: string[] } {
  if (!through) {
    return { sql: "true", values: [] }
  }
  const [a, b, c] = [firstParameter, firstParameter + 1, firstParameter + 2]
  return { sql: `("workflow_id", "transaction_id", "run_id") <= ($${a}, $${b}, $${c})`, values: through }
}
