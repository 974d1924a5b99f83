import { ChildProcess, spawn } from "child_process"
import fs from "fs"
import { freePort } from "./free-port"
import os from "os"
import path from "path"
import { Client } from "pg"
import { waitUntil } from "../../modules/__fixtures__/engine"

const BINARY = "/usr/sbin/pgbouncer"
const READY_TIMEOUT_MS = 20000

/** Why the pooler tests cannot run here, or undefined when they can. */
export function pgbouncerMissing(): string | undefined {
  return fs.existsSync(BINARY)
    ? undefined
    : `${BINARY} is not installed (Debian's pgbouncer: apt-get install -y pgbouncer as root; .ci/run installs it)`
}

/**
 * A PgBouncer of the test's own in transaction mode, on a free port with its
 * config in a temp folder, in front of the tests' Postgres (DB_HOST, DB_PORT,
 * DB_USERNAME, DB_PASSWORD): what Supabase's and Neon's pooled URLs are. Every
 * database name is passed through. It never touches a PgBouncer the machine
 * may run. It can be restarted on the same port, as a pooler is in a deploy.
 */
export class PgBouncer {
  private child?: ChildProcess
  private log = ""

  private constructor(
    readonly port: number,
    private readonly dir: string
  ) {}

  static async start(): Promise<PgBouncer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-wep-pgbouncer-"))
    // PgBouncer will not run as root: it drops to the postgres user, which must read its config.
    fs.chmodSync(dir, 0o755)
    const bouncer = new PgBouncer(await freePort(), dir)
    fs.writeFileSync(bouncer.configPath, bouncer.config(), { mode: 0o644 })
    await bouncer.resume()
    return bouncer
  }

  private get configPath(): string {
    return path.join(this.dir, "pgbouncer.ini")
  }

  private config(): string {
    const host = process.env.DB_HOST ?? "localhost"
    const port = process.env.DB_PORT ?? "5432"
    const user = process.env.DB_USERNAME ?? "postgres"
    const password = process.env.DB_PASSWORD ?? ""
    return [
      "[databases]",
      `* = host=${host} port=${port} user=${user}${password ? ` password=${password}` : ""}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${this.port}`,
      "unix_socket_dir =",
      // Clients may give any user: the server side logs in as the one above.
      "auth_type = any",
      "pool_mode = transaction",
      "max_client_conn = 500",
      "default_pool_size = 20",
      "",
    ].join("\n")
  }

  /** A URL to a database through the pooler (as a store's DATABASE_URL would be on Supabase or Neon). */
  url(database: string): string {
    return `postgres://postgres@localhost:${this.port}/${database}`
  }

  output(): string {
    return this.log
  }

  /** Starts it (again) on its port, and resolves once it hands out server connections. */
  async resume(): Promise<void> {
    const asUser = process.getuid?.() === 0 ? ["-u", "postgres"] : []
    const child = spawn(BINARY, [...asUser, this.configPath], {
      stdio: ["ignore", "pipe", "pipe"],
    })
    child.stdout!.on("data", (chunk) => (this.log += chunk))
    child.stderr!.on("data", (chunk) => (this.log += chunk))
    this.child = child
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code) =>
        reject(
          new Error(
            `pgbouncer exited (${code}) before it answered:\n${this.log}`
          )
        )
      )
    )
    await Promise.race([exited, this.ready()])
  }

  /** An immediate shutdown (SIGTERM): every client and server connection is cut. */
  async stop(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return
    }
    const exited = new Promise((resolve) => child.once("exit", resolve))
    child.kill("SIGTERM")
    await exited
  }

  async destroy(): Promise<void> {
    await this.stop()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }

  private async ready(): Promise<void> {
    let refusal: unknown
    const answers = async () => {
      const client = new Client({ connectionString: this.url("postgres") })
      client.on("error", () => undefined)
      try {
        await client.connect()
        await client.query("SELECT 1")
        return true
      } catch (error) {
        refusal = error
        return false
      } finally {
        await client.end().catch(() => undefined)
      }
    }
    await waitUntil(answers, READY_TIMEOUT_MS, {
      what: "pgbouncer answering",
      everyMs: 100,
    }).catch((error) => {
      throw new Error(`${error.message}: ${refusal}\n${this.log}`)
    })
  }
}
