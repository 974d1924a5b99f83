/**
 * One round of `npm run bench -- engines` for one engine, in its own process:
 * boots the Medusa app in ./app (BENCH_ENGINE picks its Workflow Engine,
 * DATABASE_URL its database), runs the workflows of WORKFLOWS through
 * container.resolve(Modules.WORKFLOW_ENGINE), and prints one line,
 * RESULT_MARKER followed by the JSON of an EngineRound, on stdout.
 *
 *   BENCH_RUNS (500), BENCH_CONCURRENT_RUNS (1000), BENCH_WARMUP (300), BENCH_WORKFLOWS (all),
 *   BENCH_PHASES (all), BENCH_BARRIER (an advisory lock key: wait on it before the measured phases)
 */
import type {
  IWorkflowEngineService,
  MedusaContainer,
} from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import {
  createStep,
  createWorkflow,
  StepResponse,
} from "@medusajs/framework/workflows-sdk"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { randomUUID } from "crypto"
import express from "express"
import path from "path"
import { Client } from "pg"
import { performance as hooks } from "perf_hooks"

export const RESULT_MARKER = "ENGINE_BENCH_RESULT "

// "stored" and the others start without a transaction id, as Medusa's own
// routes and subscribers run workflows; "stored, caller's id" is the same
// workflow run under an id the caller picks (an idempotency key, say).
// "floor" is no workflow: a committed INSERT then a committed UPDATE of a stored run's row (its real
// checkpoint JSON) through the app's pool, what storing a run cannot go below. "bare floor" is the
// same two commits through bare pg clients, one connection for each run in flight (16 at 16 in
// flight), named statements: nothing but Postgres' commits (and the driver), the physical limit.
export const WORKFLOWS = [
  "stored",
  "stored, caller's id",
  "plain",
  "compensate",
  "async",
  "floor",
  "bare floor",
] as const
export const PHASES = ["sequential", "16 in flight", "64 in flight"] as const
export type WorkflowName = (typeof WORKFLOWS)[number]
export type PhaseName = (typeof PHASES)[number]

export type PhaseResult = {
  runsPerSecond: number
  p50Ms: number
  p95Ms: number
  cpuMsPerRun: number
  sqlPerRun: number
  /** WAL the server wrote per run during the phase (server-wide: nothing else runs meanwhile) */
  walBytesPerRun: number
  /** The share of the phase the app's event loop was busy (perf_hooks eventLoopUtilization): near 1, the process is the limit */
  eventLoopBusy: number
  /** The app process's CPU time per second of the phase (user + system; above 1 counts its threads too) */
  cpuShare: number
}

export type EngineRound = {
  engine: string
  phases: Record<WorkflowName, Partial<Record<PhaseName, PhaseResult>>>
  peakRssKb: number
}

const RUNS = Number(process.env.BENCH_RUNS ?? 500)
const CONCURRENT_RUNS = Number(process.env.BENCH_CONCURRENT_RUNS ?? 1000)
const CONCURRENCY: Record<PhaseName, number> = {
  sequential: 1,
  "16 in flight": 16,
  "64 in flight": 64,
}
// 64 in flight only where the goals ask for it: the stored run, against the plain run and the floor.
const PHASES_OF: Partial<Record<WorkflowName, readonly PhaseName[]>> = {
  "stored, caller's id": ["sequential", "16 in flight"],
  compensate: ["sequential", "16 in flight"],
  async: ["sequential", "16 in flight"],
  "bare floor": ["sequential", "16 in flight"],
}
const ONLY_PHASES = process.env.BENCH_PHASES?.split(",")
// Enough for V8 to optimise the hot paths: a server runs warm, and the first few hundred runs are up to twice as slow.
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300)
// For profiling one workflow: BENCH_WORKFLOWS=stored (the parent needs them all).
const ONLY = process.env.BENCH_WORKFLOWS?.split(",")
const RETENTION = 3600
const FINISH_TIMEOUT_MS = 30_000

const WAIT_STEP = "bench-wait"

const WORKFLOW_IDS: Record<WorkflowName, string> = {
  stored: "bench-stored",
  "stored, caller's id": "bench-stored",
  plain: "bench-plain",
  compensate: "bench-compensate",
  async: "bench-async",
  floor: "bench-floor",
  "bare floor": "bench-bare-floor",
}

/** Registers the four workflows in Medusa's workflow registry of this process. */
function defineWorkflows(): void {
  const one = createStep(
    "bench-one",
    async (input: { n: number }) => new StepResponse({ one: input.n })
  )
  const two = createStep(
    "bench-two",
    async () => new StepResponse({ two: true })
  )
  const three = createStep(
    "bench-three",
    async () => new StepResponse({ three: "done" })
  )
  const reserve = createStep(
    "bench-reserve",
    async () => new StepResponse({ reserved: true }, "reservation"),
    async () => {
      // Nothing to release: the compensation exists so the run ends "reverted".
    }
  )
  const explode = createStep("bench-explode", async () => {
    throw new Error("bench-explode fails on purpose")
  })
  const wait = createStep({ name: WAIT_STEP, async: true }, async () => {})

  createWorkflow(
    { name: WORKFLOW_IDS.stored, store: true, retentionTime: RETENTION },
    (input: { n: number }) => {
      one(input)
      two()
      three()
    }
  )
  createWorkflow(WORKFLOW_IDS.plain, (input: { n: number }) => {
    one(input)
    two()
    three()
  })
  createWorkflow(
    { name: WORKFLOW_IDS.compensate, store: true, retentionTime: RETENTION },
    () => {
      reserve()
      explode()
    }
  )
  createWorkflow(
    { name: WORKFLOW_IDS.async, store: true, retentionTime: RETENTION },
    (input: { n: number }) => {
      one(input)
      wait()
      three()
    }
  )
}

type FinishEvent = { eventType: string; transactionId?: string; state?: string }

/** The state each run must end in; anything else fails the bench. */
const EXPECTED_STATE: Record<WorkflowName, string> = {
  stored: "done",
  "stored, caller's id": "done",
  plain: "done",
  compensate: "reverted",
  async: "done",
  floor: "done",
  "bare floor": "done",
}

function stateOf(result: any): string {
  return result.transaction.getFlow().state
}

/** The checkpoints of a stored run as the engine wrote them: its first (not started) and its last. */
type StoredRow = { first: string; last: string; context: string }

async function storedRowOf(db: Knex): Promise<StoredRow> {
  const { rows } = await db.raw(
    `SELECT execution::text AS last, context::text AS context FROM workflow_execution WHERE workflow_id = ? AND state = 'done' LIMIT 1`,
    [WORKFLOW_IDS.stored]
  )
  const last = JSON.parse(rows[0].last)
  return {
    first: JSON.stringify({ ...last, state: "not_started" }),
    last: rows[0].last,
    context: rows[0].context,
  }
}

async function floorRun(
  db: Knex,
  row: StoredRow,
  transactionId: string
): Promise<void> {
  const key = [WORKFLOW_IDS.floor, transactionId, "run-1"]
  await db.raw(
    `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, execution, context, retention_time, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'not_started', ?::jsonb, ?::jsonb, ?, now(), now())`,
    [`wf_exec_${transactionId}`, ...key, row.first, row.context, RETENTION]
  )
  await db.raw(
    `UPDATE workflow_execution SET execution = ?::jsonb, context = ?::jsonb, state = 'done', updated_at = now()
      WHERE workflow_id = ? AND transaction_id = ? AND run_id = ?`,
    [row.last, row.context, ...key]
  )
}

/**
 * Connections of their own for the bare floor, one per run in flight, each
 * opened once: a run takes a free one and gives it back.
 */
class BareConnections {
  private readonly free: Client[] = []

  constructor(private readonly url: string) {}

  async run(work: (client: Client) => Promise<void>): Promise<void> {
    let client = this.free.pop()
    if (!client) {
      client = new Client({ connectionString: this.url })
      await client.connect()
    }
    try {
      await work(client)
    } finally {
      this.free.push(client)
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.free.splice(0).map((client) => client.end()))
  }
}

/** The floor's two commits through a bare client, as named statements (parsed once per connection). */
async function bareFloorRun(
  client: Client,
  row: StoredRow,
  transactionId: string
): Promise<void> {
  const key = [WORKFLOW_IDS["bare floor"], transactionId, "run-1"]
  await client.query({
    name: "bench_bare_floor_insert",
    text: `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, execution, context, retention_time, created_at, updated_at)
           VALUES ($1, $2, $3, $4, 'not_started', $5::jsonb, $6::jsonb, $7, now(), now())`,
    values: [
      `wf_exec_${transactionId}`,
      ...key,
      row.first,
      row.context,
      RETENTION,
    ],
  })
  await client.query({
    name: "bench_bare_floor_update",
    text: `UPDATE workflow_execution SET execution = $1::jsonb, context = $2::jsonb, state = 'done', updated_at = now()
            WHERE workflow_id = $3 AND transaction_id = $4 AND run_id = $5`,
    values: [row.last, row.context, ...key],
  })
}

function runner(
  engine: IWorkflowEngineService,
  finished: Map<string, (event: FinishEvent) => void>,
  floor: () => { db: Knex; row?: StoredRow; bare: BareConnections }
) {
  // Resolves with the id the run had, whoever picked it.
  return async (
    workflow: WorkflowName,
    transactionId: string
  ): Promise<string> => {
    const workflowId = WORKFLOW_IDS[workflow]
    if (workflow === "floor") {
      const { db, row } = floor()
      await floorRun(db, row!, transactionId)
      return transactionId
    }
    if (workflow === "bare floor") {
      const { bare, row } = floor()
      await bare.run((client) => bareFloorRun(client, row!, transactionId))
      return transactionId
    }
    const input = { n: 1 }
    let state: string
    if (workflow === "async") {
      const finish = new Promise<FinishEvent>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `${workflowId} ${transactionId}: no onFinish within ${FINISH_TIMEOUT_MS} ms`
              )
            ),
          FINISH_TIMEOUT_MS
        )
        finished.set(transactionId, (event) => {
          clearTimeout(timer)
          resolve(event)
        })
      })
      const started = await engine.run(workflowId, {
        input,
        transactionId,
        throwOnError: true,
      })
      if (stateOf(started) !== "invoking") {
        throw new Error(
          `${workflowId} ${transactionId} should wait on ${WAIT_STEP}, is ${stateOf(started)}`
        )
      }
      await engine.setStepSuccess({
        idempotencyKey: {
          action: "invoke",
          transactionId,
          stepId: WAIT_STEP,
          workflowId,
        },
        stepResponse: { waited: true },
      })
      state = (await finish).state ?? "unknown"
    } else {
      const picksId = workflow === "stored, caller's id"
      const result = await engine.run(workflowId, {
        input,
        ...(picksId ? { transactionId } : {}),
        throwOnError: workflow !== "compensate",
      })
      transactionId = result.transaction.transactionId
      state = stateOf(result)
    }
    if (state !== EXPECTED_STATE[workflow]) {
      throw new Error(
        `${workflowId} ${transactionId} ended ${state}, expected ${EXPECTED_STATE[workflow]}`
      )
    }
    return transactionId
  }
}

/**
 * Counts every statement the app's pool sends to Postgres, whoever sends it:
 * Medusa's modules and its engines' MikroORM go through the pool's knex, and
 * ours also sends its hot statements to pooled connections directly (named
 * prepared statements), past knex's events. So the count is taken where they
 * all meet, the driver's client class; `wal`'s own reads are left out.
 */
async function countStatements(
  db: Knex,
  wal: Client
): Promise<{ queries: number }> {
  const counter = { queries: 0 }
  const connection = await db.client.acquireConnection()
  const prototype = Object.getPrototypeOf(connection)
  await db.client.releaseConnection(connection)
  const query = prototype.query
  prototype.query = function (this: unknown, ...args: unknown[]) {
    if (this !== wal) {
      counter.queries++
    }
    return query.apply(this, args)
  }
  return counter
}

/**
 * With BENCH_BARRIER set, the processes of a cluster run (two apps on one
 * database) start their measured phases together: each waits for the
 * parent's advisory lock, which the parent releases once all of them wait.
 */
async function barrier(wal: Client): Promise<void> {
  const key = process.env.BENCH_BARRIER
  if (key) {
    await wal.query(`SELECT pg_advisory_lock_shared($1::bigint)`, [key])
    await wal.query(`SELECT pg_advisory_unlock_shared($1::bigint)`, [key])
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ]
}

/** The server's WAL insert position, in bytes, read on a connection of its own (not counted as the engine's SQL). */
async function walPosition(wal: Client): Promise<bigint> {
  const { rows } = await wal.query(
    `SELECT pg_current_wal_insert_lsn()::text AS lsn`
  )
  const [high, low] = rows[0].lsn.split("/")
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`)
}

async function phase(
  runOne: (transactionId: string) => Promise<string>,
  concurrency: number,
  counter: { queries: number },
  wal: Client,
  runs = RUNS
): Promise<{ result: PhaseResult; lastTransactionId: string }> {
  global.gc?.()
  const latencies: number[] = []
  let started = 0
  let lastTransactionId = ""
  const worker = async () => {
    while (started < runs) {
      started++
      const begin = performance.now()
      lastTransactionId = await runOne(`bench-${randomUUID()}`)
      latencies.push(performance.now() - begin)
    }
  }
  const queriesBefore = counter.queries
  const walBefore = await walPosition(wal)
  const cpuBefore = process.cpuUsage()
  const loopBefore = hooks.eventLoopUtilization()
  const begin = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const elapsedMs = performance.now() - begin
  const cpu = process.cpuUsage(cpuBefore)
  const loop = hooks.eventLoopUtilization(loopBefore)
  const walBytes = Number((await walPosition(wal)) - walBefore)
  const queries = counter.queries - queriesBefore
  latencies.sort((a, b) => a - b)
  return {
    result: {
      runsPerSecond: runs / (elapsedMs / 1000),
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      cpuMsPerRun: (cpu.user + cpu.system) / 1000 / runs,
      sqlPerRun: queries / runs,
      walBytesPerRun: walBytes / runs,
      eventLoopBusy: loop.utilization,
      cpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
    },
    lastTransactionId,
  }
}

async function main(): Promise<void> {
  const engineName = process.env.BENCH_ENGINE ?? "ours"
  const loaders = require("@medusajs/medusa/loaders/index").default
  const { container }: { container: MedusaContainer } = await loaders({
    directory: path.join(__dirname, "app"),
    expressApp: express(),
    skipLoadingEntryPoints: true,
  })
  const engine = container.resolve<IWorkflowEngineService>(
    Modules.WORKFLOW_ENGINE
  )
  defineWorkflows()

  const db = container.resolve<Knex>(ContainerRegistrationKeys.PG_CONNECTION)
  const wal = new Client({ connectionString: process.env.DATABASE_URL })
  await wal.connect()
  const counter = await countStatements(db, wal)
  let storedRow: StoredRow | undefined

  // One subscriber for the whole workflow, so that waiting for a run's finish
  // costs no subscribe/unsubscribe per run (a Redis round trip for that engine).
  const finished = new Map<string, (event: FinishEvent) => void>()
  await engine.subscribe({
    workflowId: WORKFLOW_IDS.async,
    subscriber: (event: FinishEvent) => {
      if (event.eventType === "onFinish" && event.transactionId) {
        finished.get(event.transactionId)?.(event)
        finished.delete(event.transactionId)
      }
    },
  })

  const bare = new BareConnections(process.env.DATABASE_URL!)
  const run = runner(engine, finished, () => ({ db, row: storedRow, bare }))
  const phases = {} as EngineRound["phases"]
  for (const workflow of WORKFLOWS.filter(
    (name) => !ONLY || ONLY.includes(name)
  )) {
    // Warm both ways: concurrent runs open the pool's other connections, and
    // each new connection compiles its statements and triggers once.
    if (workflow === "floor" || workflow === "bare floor") {
      storedRow ??= await storedRowOf(db)
    }
    await phase((id) => run(workflow, id), 16, counter, wal, WARMUP)
    await phase((id) => run(workflow, id), 1, counter, wal, WARMUP)
    // What autovacuum (off on this machine) would have done by now, 50 rows and 10% into a store's table:
    // a new store's statistics otherwise say the table is empty all round, and plans follow them.
    await wal.query(`ANALYZE "workflow_execution"`)
    await barrier(wal)
    phases[workflow] = {}
    let lastTransactionId = ""
    for (const name of (PHASES_OF[workflow] ?? PHASES).filter(
      (p) => !ONLY_PHASES || ONLY_PHASES.includes(p)
    )) {
      const measured = await phase(
        (id) => run(workflow, id),
        CONCURRENCY[name],
        counter,
        wal,
        name === "sequential" ? RUNS : CONCURRENT_RUNS
      )
      phases[workflow][name] = measured.result
      lastTransactionId = measured.lastTransactionId
    }

    // The engine must really have kept what it ran; a plain run keeps nothing.
    if (!["plain", "floor", "bare floor"].includes(workflow)) {
      const execution = await engine.retrieveWorkflowExecution({
        workflow_id: WORKFLOW_IDS[workflow],
        transaction_id: lastTransactionId,
      })
      if (execution.state !== EXPECTED_STATE[workflow]) {
        throw new Error(
          `${engineName} stored ${WORKFLOW_IDS[workflow]} as ${execution.state}, expected ${EXPECTED_STATE[workflow]}`
        )
      }
    }
  }

  await bare.close()
  const round: EngineRound = {
    engine: engineName,
    phases,
    peakRssKb: process.resourceUsage().maxRSS,
  }
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(round)}\n`)
}

if (require.main === module) {
  // No shutdown of the app: the numbers are out, and exiting also closes the
  // Redis and BullMQ handles that would otherwise keep the process alive.
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
}
