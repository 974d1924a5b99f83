import { knex, Knex } from "@medusajs/framework/mikro-orm/knex"
import { MikroORM } from "@mikro-orm/postgresql"
import { spawn } from "child_process"
import path from "path"

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
