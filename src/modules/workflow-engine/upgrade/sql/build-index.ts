import { UpgradeConnection } from "./types"

/** Whether the index exists, and whether Postgres may use it (false after an interrupted CONCURRENTLY build). */
export async function indexState(
  db: UpgradeConnection,
  name: string
): Promise<"missing" | "valid" | "invalid"> {
  const { rows } = await db.query(
    `SELECT i.indisvalid AS valid
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`,
    [name]
  )
  return !rows.length ? "missing" : rows[0].valid ? "valid" : "invalid"
}

/**
 * Drops what an interrupted build left: an invalid index is still updated by
 * every write but answers no query. CONCURRENTLY, so writers never wait.
 */
export async function dropIndexConcurrently(
  db: UpgradeConnection,
  name: string
): Promise<void> {
  await db.query(`DROP INDEX CONCURRENTLY IF EXISTS "${name}"`)
}

/**
 * Builds an index without blocking writes: two scans of the table while
 * writers go on; it waits only for transactions already running when it
 * starts. Must run outside any transaction.
 */
export async function createIndexConcurrently(
  db: UpgradeConnection,
  name: string,
  unique: boolean,
  on: string
): Promise<void> {
  await db.query(
    `CREATE ${unique ? "UNIQUE " : ""}INDEX CONCURRENTLY IF NOT EXISTS "${name}" ON "workflow_execution" ${on}`
  )
}

/** The schema pg_trgm lives in, or null where it could not be created. */
export async function trigramSchema(
  db: UpgradeConnection
): Promise<string | null> {
  const { rows } = await db.query(
    `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`
  )
  return rows.length ? rows[0].schema : null
}
