/**
 * One round of `npm run bench -- long-running` for one engine, in its own
 * process (an engine installs its storage for the whole process): boots the
 * Workflow Engine module (BENCH_ENGINE: ours, inmemory or redis) on
 * DATABASE_URL (and REDIS_URL for redis), runs the long-running workflow
 * below sequentially and then at 16 in flight, answering its two async steps
 * from outside as a webhook would (setStepSuccess), and prints RESULT_MARKER
 * followed by the JSON of a LongRunningRound.
 *
 *   BENCH_RUNS (10 sequential), BENCH_CONCURRENT_RUNS (160 at 16 in flight), BENCH_WARMUP (32)
 */
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import {
  createStep,
  createWorkflow,
  StepResponse,
} from "@medusajs/framework/workflows-sdk"
import { initModules } from "@medusajs/test-utils"
import path from "path"
import { Client } from "pg"
import { countClientStatements, percentile, walInsertBytes } from "./support"

export const RESULT_MARKER = "LONG_RUNNING_BENCH_RESULT "

export const LONG_RUNNING_ENGINES: Record<string, string> = {
  ours: path.join(__dirname, "../src/modules/workflow-engine"),
  inmemory: "@medusajs/workflow-engine-inmemory",
  redis: "@medusajs/workflow-engine-redis",
}

export const PHASES = ["sequential", "16 in flight"] as const
export type PhaseName = (typeof PHASES)[number]

export type PhaseResult = {
  runs: number
  runsPerSecond: number
  /** Start to finish of one run, the 1 s retry interval included. */
  p50Ms: number
  cpuMsPerRun: number
  /** Statements every pg client of the process sent, per run (BEGIN and COMMIT count). */
  sqlPerRun: number
  /** Per run, by statement text (first 100 characters, whitespace folded). */
  sqlByStatement: Record<string, number>
  /** WAL the server wrote per run during the phase (server-wide: nothing else of the bench runs meanwhile). */
  walBytesPerRun: number
  /** Per answer: setStepSuccess called to the next step's handler starting, ms. */
  answerMs: number[]
  /** Per run: the retry attempt started minus (the first attempt failed + the interval), ms. */
  retryLateMs: number[]
}

export type LongRunningRound = {
  engine: string
  phases: Record<PhaseName, PhaseResult>
  /** One more run, alone and not measured: its statements in the order sent, between what the driver saw. */
  trace: string[]
}

const WORKFLOW_ID = "bench-long-running"
const WAIT_FOR_PAYMENT = "bench-lr-wait-for-payment"
const FAILS_ONCE = "bench-lr-fails-once"
const WAIT_FOR_SHIPMENT = "bench-lr-wait-for-shipment"
const COMPLETE = "bench-lr-complete"
const RETRY_INTERVAL_SECONDS = 1
const STEP_TIMEOUT_SECONDS = 60
const RETENTION_SECONDS = 3600
const DEADLINE_MS = 60_000

const RUNS = Number(process.env.BENCH_RUNS ?? 10)
const CONCURRENT_RUNS = Number(process.env.BENCH_CONCURRENT_RUNS ?? 160)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 32)
const CONCURRENCY: Record<PhaseName, number> = {
  sequential: 1,
  "16 in flight": 16,
}

/** What one run's steps saw, by its transaction id (performance.now() times). */
type Marks = {
  answeredPaymentAt?: number
  firstAttemptAt?: number
  failedAt?: number
  retriedAt?: number
  answeredShipmentAt?: number
  completedAt?: number
}
const marks = new Map<string, Marks>()
const markOf = (key: string): Marks => {
  let mark = marks.get(key)
  if (!mark) {
    mark = {}
    marks.set(key, mark)
  }
  return mark
}

/**
 * An order that waits for its payment (an async step a webhook answers), a
 * call that fails once and is retried a second later, a wait for the
 * shipment (answered the same way) that gives up after a minute (the
 * answer comes well within it: the timeout never fires), and a last step.
 * Stored, kept an hour.
 */
function defineWorkflow(): void {
  const waitForPayment = createStep(
    { name: WAIT_FOR_PAYMENT, async: true },
    async () => {}
  )
  const failsOnce = createStep(
    {
      name: FAILS_ONCE,
      maxRetries: 1,
      retryInterval: RETRY_INTERVAL_SECONDS,
    },
    async (input: { key: string }) => {
      const now = performance.now()
      const mark = markOf(input.key)
      if (mark.failedAt === undefined) {
        mark.firstAttemptAt = now
        mark.failedAt = performance.now()
        throw new Error("the first attempt fails on purpose")
      }
      mark.retriedAt ??= now
      return new StepResponse({ captured: true })
    }
  )
  // Medusa arms a step timeout for async steps only: the wait for the shipment is bounded.
  const waitForShipment = createStep(
    { name: WAIT_FOR_SHIPMENT, async: true, timeout: STEP_TIMEOUT_SECONDS },
    async () => {}
  )
  const complete = createStep(COMPLETE, async (input: { key: string }) => {
    markOf(input.key).completedAt ??= performance.now()
    return new StepResponse({ fulfilled: true })
  })
  createWorkflow(
    { name: WORKFLOW_ID, store: true, retentionTime: RETENTION_SECONDS },
    (input: { key: string }) => {
      waitForPayment()
      failsOnce(input)
      waitForShipment()
      complete(input)
    }
  )
}

type StepEvent = {
  eventType: string
  transactionId?: string
  state?: string
  step?: { definition?: { action?: string } }
}

/** Resolves when a run reaches its shipment wait, and when it finishes (one subscriber for all runs). */
class RunEvents {
  private readonly waiting = new Map<string, () => void>()
  private readonly finishing = new Map<string, (state: string) => void>()

  handle = (event: StepEvent) => {
    const key = event.transactionId
    if (!key) {
      return
    }
    if (
      event.eventType === "onStepAwaiting" &&
      event.step?.definition?.action === WAIT_FOR_SHIPMENT
    ) {
      this.waiting.get(key)?.()
      this.waiting.delete(key)
    } else if (event.eventType === "onFinish") {
      this.finishing.get(key)?.(event.state ?? "unknown")
      this.finishing.delete(key)
    }
  }

  expect(key: string) {
    const deadline = <T>(
      what: string,
      register: (done: (v: T) => void) => void
    ) =>
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`${key}: ${what} not within ${DEADLINE_MS} ms`)),
          DEADLINE_MS
        )
        register((value) => {
          clearTimeout(timer)
          resolve(value)
        })
      })
    return {
      shipmentAwaited: deadline<void>(`${WAIT_FOR_SHIPMENT} awaiting`, (done) =>
        this.waiting.set(key, () => done())
      ),
      finished: deadline<string>("onFinish", (done) =>
        this.finishing.set(key, done)
      ),
    }
  }
}

async function runOne(
  engine: IWorkflowEngineService,
  events: RunEvents,
  key: string,
  moment: (what: string) => void = () => {}
): Promise<void> {
  const expected = events.expect(key)
  const answer = async (stepId: string, response: object) => {
    await engine.setStepSuccess({
      idempotencyKey: {
        action: "invoke",
        transactionId: key,
        stepId,
        workflowId: WORKFLOW_ID,
      },
      stepResponse: response,
    })
  }
  // run() returns once the run waits for its payment, as a route that starts a checkout would.
  const started = await engine.run(WORKFLOW_ID, {
    transactionId: key,
    input: { key },
    throwOnError: true,
  })
  const state = started.transaction.getFlow().state
  if (state !== "invoking") {
    throw new Error(`${key} should wait for ${WAIT_FOR_PAYMENT}, is ${state}`)
  }
  moment("run() returned: waits for the payment")
  markOf(key).answeredPaymentAt = performance.now()
  await answer(WAIT_FOR_PAYMENT, { paid: true })
  moment("setStepSuccess(payment) returned")
  await expected.shipmentAwaited
  moment("the shipment wait reached (after the retry)")
  markOf(key).answeredShipmentAt = performance.now()
  await answer(WAIT_FOR_SHIPMENT, { shipped: true })
  moment("setStepSuccess(shipment) returned")
  const finished = await expected.finished
  moment("onFinish")
  if (finished !== "done") {
    throw new Error(`${key} ended ${finished}, expected done`)
  }
}

const shortText = (sql: string) => sql.replace(/\s+/g, " ").trim().slice(0, 100)

async function phase(
  engine: IWorkflowEngineService,
  events: RunEvents,
  prefix: string,
  runs: number,
  concurrency: number,
  counter: ReturnType<typeof countClientStatements>,
  wal: Client
): Promise<PhaseResult> {
  global.gc?.()
  const keys: string[] = []
  const latencies: number[] = []
  let started = 0
  const worker = async () => {
    while (started < runs) {
      const key = `${prefix}-${process.pid}-${started++}`
      keys.push(key)
      const begin = performance.now()
      await runOne(engine, events, key)
      latencies.push(performance.now() - begin)
    }
  }
  counter.take()
  const walBefore = await walInsertBytes(wal)
  const cpuBefore = process.cpuUsage()
  const begin = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const elapsedMs = performance.now() - begin
  const cpu = process.cpuUsage(cpuBefore)
  const walBytes = Number((await walInsertBytes(wal)) - walBefore)
  const statements = counter.take()

  const sqlByStatement: Record<string, number> = {}
  for (const sql of statements) {
    const text = shortText(sql)
    sqlByStatement[text] = (sqlByStatement[text] ?? 0) + 1 / runs
  }
  const answerMs: number[] = []
  const retryLateMs: number[] = []
  for (const key of keys) {
    const mark = marks.get(key)!
    answerMs.push(
      mark.firstAttemptAt! - mark.answeredPaymentAt!,
      mark.completedAt! - mark.answeredShipmentAt!
    )
    retryLateMs.push(
      mark.retriedAt! - (mark.failedAt! + RETRY_INTERVAL_SECONDS * 1000)
    )
    marks.delete(key)
  }
  latencies.sort((a, b) => a - b)
  return {
    runs,
    runsPerSecond: runs / (elapsedMs / 1000),
    p50Ms: percentile(latencies, 50),
    cpuMsPerRun: (cpu.user + cpu.system) / 1000 / runs,
    sqlPerRun: statements.length / runs,
    sqlByStatement,
    walBytesPerRun: walBytes / runs,
    answerMs,
    retryLateMs,
  }
}

async function main(): Promise<void> {
  const engineName = process.env.BENCH_ENGINE ?? "ours"
  const wal = new Client({ connectionString: process.env.DATABASE_URL })
  await wal.connect()
  // Every pg client of the process but the WAL reader: knex's pool and whatever else an engine opens.
  const counter = countClientStatements(new WeakSet([wal]))
  const { medusaApp } = await initModules({
    databaseConfig: { clientUrl: process.env.DATABASE_URL!, schema: "public" },
    modulesConfig: {
      [Modules.WORKFLOW_ENGINE]: {
        resolve: LONG_RUNNING_ENGINES[engineName],
        options:
          engineName === "redis"
            ? {
                redis: {
                  redisUrl: process.env.REDIS_URL,
                  queueName: "wep-bench-long-running",
                  jobQueueName: "wep-bench-long-running-jobs",
                },
              }
            : {},
      },
    },
    injectedDependencies: {
      logger: { ...console, info() {}, debug() {}, warn() {} },
    },
  })
  const engine = medusaApp.modules[
    Modules.WORKFLOW_ENGINE
  ] as IWorkflowEngineService
  defineWorkflow()
  const events = new RunEvents()
  await engine.subscribe({ workflowId: WORKFLOW_ID, subscriber: events.handle })

  // A server runs warm: one batch, not recorded, compiles the paths a run takes, and opens the pool's connections.
  await phase(engine, events, "bench-lr-warmup", WARMUP, 16, counter, wal)
  const phases = {} as LongRunningRound["phases"]
  for (const name of PHASES) {
    phases[name] = await phase(
      engine,
      events,
      `bench-lr-${name.replace(/\s+/g, "-")}`,
      name === "sequential" ? RUNS : CONCURRENT_RUNS,
      CONCURRENCY[name],
      counter,
      wal
    )
  }

  // The engine must really have kept what it ran.
  const last = `bench-lr-16-in-flight-${process.pid}-${CONCURRENT_RUNS - 1}`
  const execution = await engine.retrieveWorkflowExecution({
    workflow_id: WORKFLOW_ID,
    transaction_id: last,
  })
  if (execution.state !== "done") {
    throw new Error(`${engineName} stored ${last} as ${execution.state}`)
  }

  const trace: string[] = []
  const statements = () =>
    trace.push(...counter.take().map((sql) => `  ${shortText(sql)}`))
  counter.take()
  await runOne(engine, events, `bench-lr-trace-${process.pid}`, (what) => {
    statements()
    trace.push(`-- ${what}`)
  })

  const round: LongRunningRound = { engine: engineName, phases, trace }
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(round)}\n`)
}

if (require.main === module) {
  // No shutdown: the numbers are out, and exiting also closes the Redis and BullMQ handles.
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
}
