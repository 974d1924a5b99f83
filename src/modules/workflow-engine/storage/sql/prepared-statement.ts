import { Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { Queryable } from "../../db"

/** A statement that runs on every stored run, written with knex's `?` placeholders. */
export type HotStatement = {
  /** The name Postgres knows the prepared statement by, on each connection of the pool. */
  name: string
  sql: string
}

type PgConnection = {
  query(config: {
    name: string
    text: string
    values: unknown[]
  }): Promise<{ rowCount: number | null; rows: any[] }>
}

// The `$1` form of each statement's text, derived once per statement.
const positional = new WeakMap<HotStatement, string>()

/*
 * Pools (knex clients) whose server sessions cannot keep a prepared statement
 * from one transaction to the next: a transaction pooler lends each
 * transaction whichever server session is free, so a name prepared on one is
 * unknown on the next (26000) or already taken there by another client
 * (42P05). Both answers come from the Parse or Bind, before anything ran.
 */
const PREPARED_STATEMENT_REFUSED = new Set(["26000", "42P05"])
const refusingPools = new WeakSet<object>()

export type HotOptions = {
  /** The module option `preparedStatements`. */
  prepared: boolean
  logger: Pick<Logger, "warn">
}

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
  { prepared, logger }: HotOptions
): Promise<{ rowCount: number; rows: any[] }> {
  if (!prepared || isTransaction(db) || refusingPools.has(db.client)) {
    return await runUnnamed(db, statement, values)
  }
  try {
    return await runNamed(db, statement, values)
  } catch (error) {
    if (
      !PREPARED_STATEMENT_REFUSED.has((error as { code?: string }).code ?? "")
    ) {
      throw error
    }
    if (!refusingPools.has(db.client)) {
      refusingPools.add(db.client)
      logger.warn(
        `Workflow engine: Postgres refused a named prepared statement (${(error as Error).message}), as it does behind ` +
          `a transaction pooler that cannot keep them (PgBouncer before 1.21, or without max_prepared_statements). ` +
          `Stored runs' statements go unnamed from now on; set the module option preparedStatements: false to start that way.`
      )
    }
    return await runUnnamed(db, statement, values)
  }
}

async function runUnnamed(
  db: Queryable,
  statement: HotStatement,
  values: unknown[]
) {
  const result = await db.raw(statement.sql, values as Knex.RawBinding[])
  return { rowCount: result.rowCount ?? 0, rows: result.rows }
}

async function runNamed(
  db: Queryable,
  statement: HotStatement,
  values: unknown[]
) {
  let text = positional.get(statement)
  if (text === undefined) {
    text = db.client.positionBindings(statement.sql) as string
    positional.set(statement, text)
  }
  const connection: PgConnection = await db.client.acquireConnection()
  try {
    const result = await connection.query({
      name: statement.name,
      text,
      values,
    })
    return { rowCount: result.rowCount ?? 0, rows: result.rows }
  } finally {
    await db.client.releaseConnection(connection)
  }
}

function isTransaction(db: Queryable): db is Knex.Transaction {
  return (db as Knex.Transaction).isTransaction === true
}
