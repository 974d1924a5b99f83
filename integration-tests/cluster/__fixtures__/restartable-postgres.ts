import { ChildProcess, fork } from "child_process"
import fs from "fs"
import { freePort } from "./free-port"
import os from "os"
import path from "path"
import { Client } from "pg"

const HOST = "localhost"
const CREDENTIALS = "postgres:postgres"

/**
 * A Postgres of the test's own (never the machine's), on a free port with its
 * data in a fresh temp folder, that can be stopped and started again on that
 * same folder and port, as a restarted database server is.
 */
export class RestartablePostgres {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly dataDir: string
  ) {}

  static async start(): Promise<RestartablePostgres> {
    const port = await freePort(HOST)
    const dataDir = fs.mkdtempSync(
      path.join(os.tmpdir(), "medusa-wep-restart-pg-")
    )
    const child = fork(
      path.join(__dirname, "postgres-server.js"),
      [dataDir, String(port)],
      {
        stdio: ["ignore", "ignore", "inherit", "ipc"],
        execArgv: [],
      }
    )
    const server = new RestartablePostgres(child, port, dataDir)
    await server.send("start")
    return server
  }

  url(database = "postgres"): string {
    return `postgres://${CREDENTIALS}@${HOST}:${this.port}/${database}`
  }

  /** A fast shutdown: every session is ended and the server process exits. */
  async stop(): Promise<void> {
    await this.send("stop")
  }

  async resume(): Promise<void> {
    await this.send("start")
  }

  async createDatabase(name: string): Promise<string> {
    const client = new Client({ connectionString: this.url() })
    await client.connect()
    try {
      await client.query(`CREATE DATABASE "${name}"`)
    } finally {
      await client.end()
    }
    return this.url(name)
  }

  /** Stops the server and removes its data folder. */
  async destroy(): Promise<void> {
    if (!this.child.connected) {
      return
    }
    const exited = new Promise((resolve) => this.child.once("exit", resolve))
    this.child.disconnect()
    await exited
  }

  private send(command: "start" | "stop"): Promise<void> {
    return new Promise((resolve, reject) => {
      const onMessage = (reply: {
        command: string
        ok: boolean
        message?: string
      }) => {
        if (reply.command !== command) {
          return
        }
        this.child.off("message", onMessage)
        reply.ok
          ? resolve()
          : reject(new Error(`postgres ${command} failed: ${reply.message}`))
      }
      this.child.on("message", onMessage)
      this.child.send(command)
    })
  }
}
