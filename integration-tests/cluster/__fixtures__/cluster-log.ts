import type { Knex } from "@medusajs/framework/mikro-orm/knex"

/** What the cluster workflows record, each row with the instance that did it (see cluster-workflows' `log`). */
export const CLUSTER_LOG_TABLE = `CREATE TABLE IF NOT EXISTS cluster_log (
  id serial PRIMARY KEY, kind text, key text, instance text, at timestamptz DEFAULT clock_timestamp())`

export type LogEntry = { key: string; instance: string }

/** The entries of one kind, in the order they were written. */
export async function readLog(db: Knex, kind: string): Promise<LogEntry[]> {
  return (
    await db.raw(
      `SELECT key, instance FROM cluster_log WHERE kind = ? ORDER BY id`,
      [kind]
    )
  ).rows
}
