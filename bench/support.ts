import { knex, Knex } from "@medusajs/framework/mikro-orm/knex"
import { MikroORM } from "@mikro-orm/postgresql"
import { spawn } from "child_process"
import path from "path"
import { Client } from "pg"

/** The Postgres of DB_HOST / DB_PORT / DB_USERNAME / DB_PASSWORD (Medusa's test defaults). */
export function databaseUrl(database: string): string {
  const user = encodeURIComponent(process.env.DB_USERNAME ?? "postgres")
  const password = process.env.DB_PASSWORD
    ? `:${encodeURIComponent(process.env.DB_PASSWORD)}`
    : ""
  return `postgres://${user}${password}@${process.env.DB_HOST ?? "localhost"}:${process.env.DB_PORT ?? "5432"}/${database}`
}

/**
 * A fresh database for one benchmark, and a connection to it. `settings` are
 * server settings given to every session on that database.
 */
export async function benchDatabase(
  name: string,
  settings: Record<string, string> = {}
): Promise<{ url: string; db: Knex }> {
  const admin = knex({ client: "pg", connection: databaseUrl("postgres") })
  await admin.raw(`DROP DATABASE IF EXISTS ?? WITH (FORCE)`, [name])
  await admin.raw(`CREATE DATABASE ??`, [name])
  for (const [setting, value] of Object.entries(settings)) {
    if (!/^\w+$/.test(value)) {
      throw new Error(
        `Setting ${setting} takes a plain word, got ${JSON.stringify(value)}`
      )
    }
    await admin.raw(`ALTER DATABASE ?? SET ?? = ${value}`, [name, setting])
  }
  await admin.destroy()
  const url = databaseUrl(name)
  return {
    url,
    db: knex({ client: "pg", connection: url, pool: { min: 1, max: 4 } }),
  }
}

/** Runs this module's migrations, as `medusa db:migrate` would. */
export async function migrateOurs(url: string): Promise<void> {
  await migrate(
    url,
    path.join(__dirname, "../src/modules/workflow-engine/migrations")
  )
}

/** Runs the migrations of one directory, as `medusa db:migrate` would for its module. */
export async function migrate(url: string, directory: string): Promise<void> {
  const orm = await MikroORM.init({
    clientUrl: url,
    entities: [],
    discovery: { warnWhenNoEntities: false },
    migrations: {
      path: directory,
      pathTs: directory,
      silent: true,
      snapshot: false,
    },
  })
  try {
    await orm.getMigrator().up()
  } finally {
    await orm.close(true)
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2
}

/** A Markdown table, so the output can go into BENCHMARKS.md as it is. */
export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join(
    "\n"
  )
}

/** Medusa's own engine migrations, as the installed @medusajs/workflow-engine-inmemory ships them. */
export const MEDUSA_MIGRATIONS = path.join(
  path.dirname(require.resolve("@medusajs/workflow-engine-inmemory")),
  "migrations"
)

const CHILD_TIMEOUT_MS = 30 * 60 * 1000

/** Runs a command to its end; its output is shown only if it fails. */
export function exec(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv }
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, MEDUSA_DISABLE_TELEMETRY: "true", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    })
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    // A parent that stops (an error, a signal) takes the child with it.
    const kill = () => child.kill("SIGKILL")
    const stop = () => {
      kill()
      process.exit(1)
    }
    process.once("exit", kill).once("SIGINT", stop).once("SIGTERM", stop)
    const timer = setTimeout(kill, CHILD_TIMEOUT_MS)
    child.on("error", reject)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      process
        .removeListener("exit", kill)
        .removeListener("SIGINT", stop)
        .removeListener("SIGTERM", stop)
      if (code === 0) {
        resolve(output)
      } else {
        reject(
          new Error(
            `${command} ${args.join(" ")} ended with ${signal ?? `code ${code}`}:\n${output.slice(-8000)}`
          )
        )
      }
    })
  })
}

/** The value at percentile `p` (0-100) of ascending `sorted` values (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  return sorted[
    Math.min(
      sorted.length - 1,
      Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)
    )
  ]
}

/**
 * Counts the statements every pg client of this process sends (knex's pooled
 * connections, an engine's own clients, a LISTEN connection), by wrapping
 * pg's Client#query where they all meet; the clients in `own` (the bench's
 * probes) are left out. `take` returns the statements' text since the last
 * take. BEGIN and COMMIT count as statements.
 */
export function countClientStatements(own: WeakSet<object>): {
  take: () => string[]
  restore: () => void
} {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const prototype = Client.prototype as any
  const original = prototype.query
  let sent: string[] = []
  prototype.query = function (
    this: Client,
    config: unknown,
    ...rest: unknown[]
  ) {
    if (!own.has(this)) {
      sent.push(
        typeof config === "string"
          ? config
          : ((config as { text?: string })?.text ?? "?")
      )
    }
    return original.call(this, config, ...rest)
  }
  return {
    take: () => {
      const taken = sent
      sent = []
      return taken
    },
    restore: () => {
      prototype.query = original
    },
  }
}

/**
 * The server's WAL insert position in bytes, read on `client`. WAL is
 * server-wide: the difference around a phase is that phase's only when
 * nothing else writes meanwhile.
 */
export async function walInsertBytes(client: Client): Promise<bigint> {
  const { rows } = await client.query(
    `SELECT pg_current_wal_insert_lsn()::text AS lsn`
  )
  const [high, low] = rows[0].lsn.split("/")
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`)
}
