import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { Queryable } from "./types"

/** A statement that runs on every stored run, written with knex's `?` placeholders. */
export type HotStatement = {
  /** The name Postgres knows the prepared statement by, on each connection of the pool. */
  name: string
  sql: string
}

type PgConnection = {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rowCount: number | null; rows: any[] }>
}

// The `$1` form of each statement's text, derived once per statement.
const positional = new WeakMap<HotStatement, string>()

/**
 * Runs one of the statements every stored run sends (its INSERT and its
 * UPDATE) as a named prepared statement, on a connection of the same pool
 * knex and Medusa use. Postgres parses and plans it once per connection
 * instead of once per run, and the driver skips knex's per-query work;
 * both showed in profiles of the stored path, against a floor of two bare
 * statements. Inside a transaction it goes through the transaction, as any
 * other statement, and with `prepared` false (the module option
 * `preparedStatements`) as plain knex SQL.
 */
export async function runHot(
  db: Queryable,
  statement: HotStatement,
  values: unknown[],
  { prepared }: { prepared: boolean }
): Promise<{ rowCount: number; rows: any[] }> {
  if (!prepared || isTransaction(db)) {
    const result = await db.raw(statement.sql, values as Knex.RawBinding[])
    return { rowCount: result.rowCount ?? 0, rows: result.rows }
  }
  let text = positional.get(statement)
  if (text === undefined) {
    text = db.client.positionBindings(statement.sql) as string
    positional.set(statement, text)
  }
  const connection: PgConnection = await db.client.acquireConnection()
  try {
    const result = await connection.query({ name: statement.name, text, values })
    return { rowCount: result.rowCount ?? 0, rows: result.rows }
  } finally {
    await db.client.releaseConnection(connection)
  }
}

function isTransaction(db: Queryable): db is Knex.Transaction {
  return (db as Knex.Transaction).isTransaction === true
}
