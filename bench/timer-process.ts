/**
 * One engine instance of `npm run bench -- timers`, in its own process (an
 * engine installs its storage for the whole process): boots the Workflow
 * Engine module (BENCH_ENGINE: ours or inmemory) on DATABASE_URL, prints
 * READY_MARKER, and answers the parent's commands over IPC (see TimerCommand).
 * Each run of the bench workflow has a step that fails its first attempt and
 * is retried after `retryInterval: 1`. BENCH_ROLE says which part of a run
 * this process plays:
 *   - alone: starts the runs and fires their retries (one instance);
 *   - writer: a `server` instance (ours): starts the runs, whose retry timers
 *     it only writes;
 *   - firer: a worker (ours) that starts nothing and fires the writer's
 *     retries, told of them by NOTIFY.
 */
import { IWorkflowEngineService } from "@medusajs/framework/types"
import {
  ContainerRegistrationKeys,
  createPgConnection,
  Modules,
} from "@medusajs/framework/utils"
import { MedusaApp } from "@medusajs/framework/modules-sdk"
import { DistributedTransaction } from "@medusajs/framework/orchestration"
import {
  createStep,
  createWorkflow,
  StepResponse,
} from "@medusajs/framework/workflows-sdk"
import path from "path"

export const READY_MARKER = "TIMER_BENCH_READY"
/** The retry intervals a run can ask for: 1 s, and 10 s for a batch whose failures take longer than 1 s to store. */
export const RETRY_INTERVALS_SECONDS = [1, 10] as const
export type RetryIntervalSeconds = (typeof RETRY_INTERVALS_SECONDS)[number]
export type TimerRole = "alone" | "writer" | "firer"

/** What the parent asks; the reply is a RunTimes per key. */
export type TimerCommand =
  /** alone, writer: start `size` runs at once, keys `<prefix>-<i>`; alone waits for their retries too */
  | {
      start: {
        prefix: string
        size: number
        retryIntervalSeconds: RetryIntervalSeconds
      }
    }
  /** firer: wait for the retries of these runs */
  | { await: { keys: string[] } }

/** Date.now() of one run's moments, in the process that saw them. */
export type RunTimes = {
  /** its first attempt threw */
  failedAt?: number
  /** the orchestrator asked the engine for the retry (the `timestamp` it passes to scheduleRetry) */
  askedAt?: number
  /** its retry attempt started */
  retriedAt?: number
}

const DEADLINE_MS = 120_000
const workflowId = (retryIntervalSeconds: number) =>
  `bench-timer-retry-${retryIntervalSeconds}s`

export const TIMER_ENGINES: Record<string, string> = {
  ours: path.join(__dirname, "../src/modules/workflow-engine"),
  inmemory: "@medusajs/workflow-engine-inmemory",
}

const WORKER_MODES = {
  alone: "shared",
  writer: "server",
  firer: "worker",
} as const

const times = new Map<string, RunTimes>()
const timesOf = (key: string) => {
  const known = times.get(key) ?? {}
  times.set(key, known)
  return known
}

function defineWorkflows(): void {
  for (const retryInterval of RETRY_INTERVALS_SECONDS) {
    const failsOnce = createStep(
      {
        name: `bench-fails-once-${retryInterval}s`,
        maxRetries: 1,
        retryInterval,
      },
      // By the attempt, not by what this process saw: with two processes, the retry runs where the first did not.
      async (input: { key: string }, { metadata }) => {
        const now = Date.now()
        if (metadata.attempt <= 1) {
          timesOf(input.key).failedAt = now
          throw new Error("the first attempt fails")
        }
        timesOf(input.key).retriedAt ??= now
        return new StepResponse(true)
      }
    )
    createWorkflow(
      { name: workflowId(retryInterval), store: true, retentionTime: 3600 },
      (input: { key: string }) => {
        failsOnce(input)
      }
    )
  }
}

/** Notes when the orchestrator asks for each retry, through whichever storage the engine installed. */
function noteRetryRequests(): void {
  const storage = (DistributedTransaction as any).keyValueStore
  const scheduleRetry = storage.scheduleRetry.bind(storage)
  storage.scheduleRetry = (
    transaction: { transactionId: string },
    step: unknown,
    timestamp: number,
    interval: number
  ) => {
    timesOf(transaction.transactionId).askedAt ??= timestamp
    return scheduleRetry(transaction, step, timestamp, interval)
  }
}

async function retried(keys: string[]): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS
  while (keys.some((key) => times.get(key)?.retriedAt === undefined)) {
    if (Date.now() > deadline) {
      throw new Error(`not every retry ran within ${DEADLINE_MS} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function answer(
  engine: IWorkflowEngineService,
  role: TimerRole,
  command: TimerCommand
): Promise<Record<string, RunTimes>> {
  let keys: string[]
  if ("start" in command) {
    const { prefix, size, retryIntervalSeconds } = command.start
    keys = Array.from({ length: size }, (_, i) => `${prefix}-${i}`)
    await Promise.all(
      keys.map((key) =>
        engine.run(workflowId(retryIntervalSeconds), {
          transactionId: key,
          input: { key },
          throwOnError: false,
        })
      )
    )
    if (role === "alone") {
      await retried(keys)
    }
  } else {
    keys = command.await.keys
    await retried(keys)
  }
  return Object.fromEntries(keys.map((key) => [key, times.get(key) ?? {}]))
}

async function main(): Promise<void> {
  const engineName = process.env.BENCH_ENGINE ?? "ours"
  const role = (process.env.BENCH_ROLE ?? "alone") as TimerRole
  // initModules boots every instance in `shared` mode: the module's worker_mode comes from MedusaApp's workerMode.
  const db = createPgConnection({
    clientUrl: process.env.DATABASE_URL!,
    schema: "public",
  })
  const medusaApp = await MedusaApp({
    modulesConfig: {
      [Modules.WORKFLOW_ENGINE]: {
        resolve: TIMER_ENGINES[engineName],
        options: {},
      },
    },
    injectedDependencies: {
      [ContainerRegistrationKeys.PG_CONNECTION]: db,
      logger: { ...console, info() {}, debug() {}, warn() {} },
    },
    workerMode: WORKER_MODES[role],
  })
  await medusaApp.onApplicationStart()
  const shutdown = async () => {
    await medusaApp.onApplicationPrepareShutdown()
    await medusaApp.onApplicationShutdown()
    await db.destroy()
  }
  const engine = medusaApp.modules[
    Modules.WORKFLOW_ENGINE
  ] as unknown as IWorkflowEngineService
  defineWorkflows()
  noteRetryRequests()

  process.on("message", (message: { id: number; command: TimerCommand }) => {
    answer(engine, role, message.command).then(
      (reply) => process.send!({ id: message.id, reply }),
      (error) => process.send!({ id: message.id, error: String(error) })
    )
  })
  process.on("disconnect", () => {
    shutdown().then(
      () => process.exit(0),
      () => process.exit(1)
    )
  })
  process.stdout.write(`${READY_MARKER}\n`)
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error)
    process.exit(1)
  })
}
