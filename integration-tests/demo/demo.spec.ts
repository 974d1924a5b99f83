import { ChildProcess, spawn } from "child_process"
import fs from "fs"
import net from "net"
import os from "os"
import path from "path"
import { Client } from "pg"
import { alive, processesMentioning, processTree } from "./processes"

/**
 * `npm run demo` as a newcomer runs it, on a throwaway embedded Postgres
 * (DEMO_DATA_DIR) and a free port: it prints the admin URL and the
 * credentials, the admin answers, the seeded executions are listed by the
 * admin API, the scheduled job ticks, and a Ctrl-C (SIGINT to its process
 * group, as a terminal sends it) stops Medusa and Postgres, leaving no
 * process behind.
 */

const REPO = path.resolve(__dirname, "..", "..")
const STARTUP_DEADLINE_MS = 4 * 60 * 1000
const STOP_DEADLINE_MS = 60 * 1000
const TICK_DEADLINE_MS = 60 * 1000

jest.setTimeout(STARTUP_DEADLINE_MS + STOP_DEADLINE_MS + TICK_DEADLINE_MS + 60 * 1000)

type Execution = { workflow_id: string; transaction_id: string; state: string }

let dataDir: string
let demo: ChildProcess | undefined
let output = ""

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

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()))
}

/** Resolves to the first match of `pattern` in the demo's output; rejects if the demo exits first. */
function printed(pattern: RegExp, deadlineMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = output.match(pattern)
      if (match) {
        finish()
        resolve(match)
      }
    }
    const onExit = () => {
      finish()
      reject(new Error(`The demo exited before printing ${pattern}:\n${output.slice(-4000)}`))
    }
    const timer = setTimeout(() => {
      finish()
      reject(new Error(`The demo did not print ${pattern} within ${deadlineMs / 1000}s:\n${output.slice(-4000)}`))
    }, deadlineMs)
    const finish = () => {
      clearTimeout(timer)
      demo!.stdout!.off("data", check)
      demo!.off("exit", onExit)
    }
    demo!.stdout!.on("data", check)
    demo!.once("exit", onExit)
    check()
  })
}

async function withDeadline<T>(what: string, deadlineMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    const result = await attempt()
    if (result !== undefined) {
      return result
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} did not happen within ${deadlineMs / 1000}s`)
    }
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "wep-demo-smoke-"))
  // As root, Postgres runs as the OS user postgres, which must reach its data folder inside.
  fs.chmodSync(dataDir, 0o755)
})

afterAll(async () => {
  if (demo && demo.exitCode === null && demo.signalCode === null) {
    process.kill(-demo.pid!, "SIGKILL")
  }
  for (const pid of processesMentioning(dataDir).keys()) {
    process.kill(pid, "SIGKILL")
  }
  fs.rmSync(dataDir, { recursive: true, force: true })
})

it("npm run demo serves the seeded store's admin, and Ctrl-C leaves no process behind", async () => {
  const port = await freePort()
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DEMO_DATA_DIR: dataDir }
  delete env.DATABASE_URL
  demo = spawn("npm", ["run", "demo"], { cwd: REPO, env, detached: true, stdio: ["ignore", "pipe", "pipe"] })
  demo.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
  demo.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))

  const [, postgresPort] = await printed(/Postgres is up at postgres:\/\/\S+@localhost:(\d+)\//, STARTUP_DEADLINE_MS)
  const [, adminUrl] = await printed(/^Medusa admin: (\S+)$/m, STARTUP_DEADLINE_MS)
  const [, email, password] = await printed(/^Log in with email (\S+) and password (\S+)$/m, 5000)
  expect(adminUrl).toBe(`http://localhost:${port}/app`)

  const page = await fetch(adminUrl)
  expect(page.status).toBe(200)
  expect(page.headers.get("content-type")).toMatch(/text\/html/)

  const login = await fetch(`http://localhost:${port}/auth/user/emailpass`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  })
  expect(login.status).toBe(200)
  const { token } = (await login.json()) as { token: string }
  const listExecutions = async (): Promise<Execution[]> => {
    const response = await fetch(
      `http://localhost:${port}/admin/workflows-executions?limit=100&fields=workflow_id,transaction_id,state`,
      { headers: { authorization: `Bearer ${token}` } }
    )
    expect(response.status).toBe(200)
    return ((await response.json()) as { workflow_executions: Execution[] }).workflow_executions
  }

  const executions = await listExecutions()
  const states = (workflowId: string) =>
    executions.filter((execution) => execution.workflow_id === workflowId).map((execution) => execution.state).sort()
  expect(states("sync-inventory")).toEqual(["done", "done", "done", "done", "done", "failed", "reverted", "reverted"])
  expect(states("send-order-confirmation")).toEqual(["done", "done", "done", "done"])
  expect(states("capture-payment")).toEqual(["done", "done", "invoking"])

  // The confirmations are kept one second: past their retention, not yet purged.
  const db = new Client({ host: "localhost", port: Number(postgresPort), user: "postgres", password: "postgres", database: "medusa_demo" })
  await db.connect()
  try {
    const { rows } = await db.query(
      `SELECT count(*)::int AS expired FROM workflow_execution
        WHERE workflow_id = 'send-order-confirmation' AND expires_at <= now()`
    )
    expect(rows[0].expired).toBe(4)
  } finally {
    await db.end()
  }

  const heartbeats = await withDeadline("A store-heartbeat tick", TICK_DEADLINE_MS, async () => {
    const ticks = (await listExecutions()).filter((execution) => execution.workflow_id === "store-heartbeat")
    return ticks.length ? ticks : undefined
  })
  expect(heartbeats[0].state).toBe("done")

  const tree = processTree(demo.pid!)
  expect([...tree.values()].some((cmdline) => cmdline.includes("medusa") && cmdline.includes(" start"))).toBe(true)
  expect([...tree.values()].some((cmdline) => cmdline.includes(`-D ${path.join(dataDir, "postgres")}`))).toBe(true)

  process.kill(-demo.pid!, "SIGINT")
  await Promise.race([
    exited(demo),
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`The demo did not stop:\n${output.slice(-4000)}`)), STOP_DEADLINE_MS)
    ),
  ])
  expect(output).toMatch(/Stopped\n/)
  expect(alive(tree.keys())).toEqual(new Map())
  expect(processesMentioning(dataDir)).toEqual(new Map())
  expect(fs.existsSync(path.join(dataDir, "postgres", "postmaster.pid"))).toBe(false)
})
