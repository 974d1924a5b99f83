import path from "path"
import { Client } from "pg"
import { alive, processesMentioning, processTree } from "./processes"
import { waitUntil } from "../modules/__fixtures__/engine"
import {
  Execution,
  executionLister,
  logInToAdminApi,
  seededCapturesRetried,
} from "./demo-admin-api"
import { DEMO_TEST_TIMEOUT_MS, RunningDemo, startDemo } from "./running-demo"

/**
 * `npm run demo` on a throwaway embedded Postgres: it prints the admin URL
 * and the credentials, the admin answers, the seeded executions are listed
 * by the admin API, the scheduled job ticks, and a Ctrl-C (SIGINT to its
 * process group, as a terminal sends it) stops Medusa and Postgres, leaving
 * no process behind.
 */

const STOP_DEADLINE_MS = 60 * 1000
const TICK_DEADLINE_MS = 60 * 1000

jest.setTimeout(DEMO_TEST_TIMEOUT_MS)

let demo: RunningDemo | undefined

afterAll(() => demo?.cleanUp())

const FIRST_RUN = [
  /initdb/,
  /Migrating the database/,
  /seeding workflow executions/,
  /The admin is ready/,
]
const SECOND_RUN = [
  /The database is migrated for this build/,
  /The database is seeded/,
  /The admin is ready/,
]

function progress(output: string): string[] {
  return output.split("\n").filter((line) => line.startsWith("[demo "))
}

function expectMilestones(lines: string[], milestones: RegExp[]): void {
  let at = 0
  for (const milestone of milestones) {
    const found = lines.findIndex(
      (line, index) => index >= at && milestone.test(line)
    )
    expect([milestone.source, found >= 0]).toEqual([milestone.source, true])
    at = found + 1
  }
}

it("npm run demo serves the seeded store's admin, and Ctrl-C leaves no process behind", async () => {
  demo = await startDemo()
  const { port, adminUrl, dataDir } = demo
  expect(adminUrl).toBe(`http://localhost:${port}/app`)

  const page = await fetch(adminUrl)
  expect(page.status).toBe(200)
  expect(page.headers.get("content-type")).toMatch(/text\/html/)

  const listExecutions = executionLister(await logInToAdminApi(demo))

  const executions = await listExecutions()
  const states = (workflowId: string) =>
    executions
      .filter((execution) => execution.workflow_id === workflowId)
      .map((execution) => execution.state)
      .sort()
  expect(states("sync-inventory")).toEqual([
    "done",
    "done",
    "done",
    "done",
    "done",
    "done",
    "failed",
    "reverted",
    "reverted",
  ])
  expect(states("send-order-confirmation")).toEqual([
    "done",
    "done",
    "done",
    "done",
    "done",
  ])
  expect(states("book-shipment")).toEqual(["invoking", "invoking"])
  // Medusa's own stored workflow, run as the store API's cart completion runs it.
  expect(states("complete-cart")).toEqual(["done"])
  await seededCapturesRetried(listExecutions)
  expect(
    (await listExecutions())
      .filter(({ workflow_id }) => workflow_id === "capture-payment")
      .map(({ transaction_id, state }) => [transaction_id, state])
      .filter(([, state]) => state !== "done")
  ).toEqual([["capture-pay_2003", "invoking"]])

  // The confirmations are kept one second: past their retention, not yet purged.
  const db = new Client({
    host: "localhost",
    port: demo.postgresPort,
    user: "postgres",
    password: "postgres",
    database: "medusa_demo",
  })
  await db.connect()
  try {
    const { rows } = await db.query(
      `SELECT count(*)::int AS expired FROM workflow_execution
        WHERE workflow_id = 'send-order-confirmation' AND expires_at <= now()`
    )
    expect(rows[0].expired).toBe(5)

    // The order the seed placed, its payment captured by the retried run about it.
    const { rows: orders } = await db.query(
      `SELECT o.id AS order_id, p.id AS payment_id, p.captured_at
         FROM "order" o
         JOIN order_payment_collection opc ON opc.order_id = o.id
         JOIN payment p ON p.payment_collection_id = opc.payment_collection_id
        WHERE o.email = 'ada@example.com'`
    )
    expect(orders).toHaveLength(1)
    const [{ order_id, payment_id, captured_at }] = orders
    expect(captured_at).not.toBeNull()
    const latest = await listExecutions()
    const about = (transactionId: string) =>
      latest.find(({ transaction_id }) => transaction_id === transactionId)
        ?.state
    expect([
      about(`confirm-${order_id}`),
      about(`ship-${order_id}`),
      about(`capture-${payment_id}`),
    ]).toEqual(["done", "invoking", "done"])
  } finally {
    await db.end()
  }

  let heartbeats: Execution[] = []
  await waitUntil(
    async () =>
      (heartbeats = (await listExecutions()).filter(
        (execution) => execution.workflow_id === "store-heartbeat"
      )).length > 0,
    TICK_DEADLINE_MS,
    { what: "A store-heartbeat tick", everyMs: 1000 }
  )
  expect(heartbeats[0].state).toBe("done")

  const child = demo.process
  const tree = processTree(child.pid!)
  expect(
    [...tree.values()].some(
      (cmdline) => cmdline.includes("medusa") && cmdline.includes(" start")
    )
  ).toBe(true)
  expect(
    [...tree.values()].some((cmdline) =>
      cmdline.includes(`-D ${path.join(dataDir, "postgres")}`)
    )
  ).toBe(true)

  expectMilestones(progress(demo.output()), FIRST_RUN)

  await demo.stop(STOP_DEADLINE_MS)
  expect(demo.output()).toMatch(/\] Stopped\n/)
  expect(alive(tree.keys())).toEqual(new Map())
  expect(processesMentioning(dataDir)).toEqual(new Map())
})

it("a second npm run demo reuses the data: no initdb, migration or seed, the same executions", async () => {
  const { dataDir } = demo!
  demo = await startDemo({ dataDir })
  const lines = progress(demo.output())
  expectMilestones(lines, SECOND_RUN)
  expect(lines.filter((line) => /initdb|Migrating|seeding/.test(line))).toEqual(
    []
  )

  const listExecutions = executionLister(await logInToAdminApi(demo))
  const executions = await listExecutions()
  expect(
    executions.filter((execution) => execution.workflow_id === "sync-inventory")
  ).toHaveLength(9)

  const tree = processTree(demo.process.pid!)
  await demo.stop(STOP_DEADLINE_MS)
  expect(alive(tree.keys())).toEqual(new Map())
  expect(processesMentioning(dataDir)).toEqual(new Map())
})
