import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import type { ClientConfig } from "pg"

/** A connection or an open transaction: every query of the engine runs on either. */
export type Queryable = Knex | Knex.Transaction

/**
 * What else the statement that writes a run changes, only when it did write
 * it: data-modifying CTEs (`"<name>" AS (…)`, comma-separated) that read the
 * CTE "written" and take `bindings` in order. Both commit together or not at
 * all (see storage/sql/written-along.ts). A run's load carries parts the same
 * way (storage/sql/load-latest-execution), "written" then always there.
 */
export type WrittenAlong = {
  sql: string
  bindings: Knex.RawBinding[]
  /** An expression the statement's result row carries for this part (no bindings), handed to `committed`. */
  result?: string
  /** Told once the statement that carried it committed, with `result`'s value; the write waits for it, and it must not throw. */
  committed?: (result: unknown) => void | Promise<void>
}

/** The primary key of a run in `workflow_execution`. */
export type RunKey = {
  workflow_id: string
  transaction_id: string
  run_id: string
}

/**
 * Where the engine's session connections open: the LISTEN connection and the
 * online upgrade's session need a server session of their own for as long as
 * they live, which a transaction pooler (PgBouncer in transaction mode,
 * Supavisor, Neon's `-pooler` hosts) does not give. They use
 * `directDatabaseUrl` when the store set it, else the pool's own connection
 * with the pool's driver options (then the listener finds out whether
 * notifications come through, see notification-listener).
 */
export function sessionConnection(
  db: Knex,
  directDatabaseUrl: string | undefined
): ClientConfig {
  const pooled = (db as any).client.config.connection
  const base: ClientConfig =
    typeof pooled === "string" ? { connectionString: pooled } : { ...pooled }
  if (!directDatabaseUrl) {
    return base
  }
  // The pool's driver options (ssl, timeouts) still apply; its address and credentials do not.
  const {
    host,
    port,
    user,
    password,
    database,
    connectionString,
    ...driverOptions
  } = base as ClientConfig & {
    connectionString?: string
  }
  return { ...driverOptions, connectionString: directDatabaseUrl }
}

/** The most connections Medusa's pool opens (knex's default is 10). */
export function poolMax(db: Knex): number {
  return Number((db as any).client.config.pool?.max ?? 10)
}

/** host:port/database of a connection, for logs: never its user or password. */
export function describeConnection(config: ClientConfig): string {
  if (config.connectionString) {
    try {
      const url = new URL(config.connectionString)
      return `${url.hostname}:${url.port || 5432}${url.pathname}`
    } catch {
      return "(an unreadable connection string)"
    }
  }
  return `${config.host ?? "localhost"}:${config.port ?? 5432}/${config.database ?? ""}`
}
