import { ChildProcess, spawn } from "child_process"
import fs from "fs"
import net from "net"
import os from "os"
import path from "path"
import { processesMentioning, processTree } from "./processes"

const REPO = path.resolve(__dirname, "..", "..")
const STARTUP_DEADLINE_MS = 4 * 60 * 1000

/** What `npm run demo` printed once its admin answered. */
export type RunningDemo = {
  process: ChildProcess
  dataDir: string
  port: number
  postgresPort: number
  adminUrl: string
  email: string
  password: string
  /** Everything the demo printed so far. */
  output(): string
  /** Resolves when it prints `pattern`; rejects if it exits first or the deadline passes. */
  printed(pattern: RegExp, deadlineMs: number): Promise<RegExpMatchArray>
  /** Ctrl-C: SIGINT to its process group; resolves once npm exited. */
  stop(deadlineMs: number): Promise<void>
  /** Kills whatever is left of it and removes its data; for afterAll. */
  cleanUp(): void
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "localhost", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/**
 * Runs `npm run demo` as a newcomer does, in a process group of its own (a
 * terminal's Ctrl-C goes to the group), on a throwaway embedded Postgres
 * (DEMO_DATA_DIR; a new one unless `reuse` names that of an earlier run)
 * and a free PORT; resolves once it printed the admin URL and the credentials.
 */
export async function startDemo(reuse?: {
  dataDir: string
}): Promise<RunningDemo> {
  const dataDir =
    reuse?.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "wep-demo-"))
  // As root, Postgres runs as the OS user postgres, which must reach its data folder inside.
  fs.chmodSync(dataDir, 0o755)
  const port = await freePort()
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    DEMO_DATA_DIR: dataDir,
  }
  delete env.DATABASE_URL
  const child = spawn("npm", ["run", "demo"], {
    cwd: REPO,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  })
  let output = ""
  child
    .stdout!.setEncoding("utf8")
    .on("data", (chunk: string) => (output += chunk))
  child
    .stderr!.setEncoding("utf8")
    .on("data", (chunk: string) => (output += chunk))

  const printed = (pattern: RegExp, deadlineMs: number) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer)
        child.stdout!.off("data", check)
        child.off("exit", onExit)
      }
      const check = () => {
        const match = output.match(pattern)
        if (match) {
          finish()
          resolve(match)
        }
      }
      const onExit = () => {
        finish()
        reject(
          new Error(
            `The demo exited before printing ${pattern}:\n${output.slice(-4000)}`
          )
        )
      }
      const timer = setTimeout(() => {
        finish()
        reject(
          new Error(
            `The demo did not print ${pattern} within ${deadlineMs / 1000}s:\n${output.slice(-4000)}`
          )
        )
      }, deadlineMs)
      child.stdout!.on("data", check)
      child.once("exit", onExit)
      check()
    })

  const running = () => child.exitCode === null && child.signalCode === null
  const stop = async (deadlineMs: number) => {
    if (!running()) {
      return
    }
    const exited = new Promise<void>((resolve) =>
      child.once("exit", () => resolve())
    )
    process.kill(-child.pid!, "SIGINT")
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      exited,
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `The demo did not stop within ${deadlineMs / 1000}s:\n${output.slice(-4000)}`
              )
            ),
          deadlineMs
        )
      }),
    ]).finally(() => clearTimeout(timer))
  }
  const cleanUp = () => {
    // Its Medusa and Postgres run in process groups of their own: kill the whole tree.
    const leftovers = new Set([
      ...(running() ? processTree(child.pid!).keys() : []),
      ...processesMentioning(dataDir).keys(),
    ])
    for (const pid of leftovers) {
      try {
        process.kill(pid, "SIGKILL")
      } catch {
        // Gone already.
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true })
  }

  try {
    const [, postgresPort] = await printed(
      /Postgres is up at postgres:\/\/\S+@localhost:(\d+)\//,
      STARTUP_DEADLINE_MS
    )
    const [, adminUrl] = await printed(
      /^Medusa admin: (\S+)$/m,
      STARTUP_DEADLINE_MS
    )
    const [, email, password] = await printed(
      /^Log in with email (\S+) and password (\S+)$/m,
      5000
    )
    return {
      process: child,
      dataDir,
      port,
      postgresPort: Number(postgresPort),
      adminUrl,
      email,
      password,
      output: () => output,
      printed,
      stop,
      cleanUp,
    }
  } catch (error) {
    cleanUp()
    throw error
  }
}

/** The startup deadline plus room for a test's own steps. */
export const DEMO_TEST_TIMEOUT_MS = STARTUP_DEADLINE_MS + 3 * 60 * 1000
