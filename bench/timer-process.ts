/**
 * One round of `npm run bench -- timers` for one engine, in its own process
 * (an engine installs its storage for the whole process): boots the Workflow
 * Engine module (BENCH_ENGINE: ours or inmemory) on DATABASE_URL, starts
 * BENCH_RUNS stored runs at once, each with a step that fails its first
 * attempt and is retried after `retryInterval: 1`, and prints RESULT_MARKER
 * followed by the JSON of a TimerRound once every retry ran.
 */
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import {
  createStep,
  createWorkflow,
  StepResponse,
} from "@medusajs/framework/workflows-sdk"
import { initModules } from "@medusajs/test-utils"
import path from "path"

export const RESULT_MARKER = "TIMER_BENCH_RESULT "

export type TimerRound = {
  engine: string
  /** Per run: when its retry attempt started minus when it was due (its first attempt's failure plus the interval), in ms. */
  latenessMs: number[]
  /**
   * Ours only, per run whose timer row was read: when the engine set the timer
   * to be due (its due_at) minus when it was due, and when the retry started
   * minus that due_at; the two add up to the lateness.
   */
  setLateMs?: number[]
  firedLateMs?: number[]
}

const RUNS = Number(process.env.BENCH_RUNS ?? 16)
const RETRY_INTERVAL_SECONDS = 1
const DEADLINE_MS = 60_000
const WORKFLOW_ID = "bench-timer-retry"

export const TIMER_ENGINES: Record<string, string> = {
  ours: path.join(__dirname, "../src/modules/workflow-engine"),
  inmemory: "@medusajs/workflow-engine-inmemory",
}

/** Per run: when its first attempt threw, and when its retry attempt started (Date.now()). */
const attempts = new Map<string, { failedAt: number; retriedAt?: number }>()

function defineWorkflow(): void {
  const failsOnce = createStep(
    {
      name: "bench-fails-once",
      maxRetries: 1,
      retryInterval: RETRY_INTERVAL_SECONDS,
    },
    async (input: { key: string }) => {
      const now = Date.now()
      const seen = attempts.get(input.key)
      if (!seen) {
        attempts.set(input.key, { failedAt: now })
        throw new Error("the first attempt fails")
      }
      seen.retriedAt ??= now
      return new StepResponse(true)
    }
  )
  createWorkflow(
    { name: WORKFLOW_ID, store: true, retentionTime: 3600 },
    (input: { key: string }) => {
      failsOnce(input)
    }
  )
}

type Engine = { engine: IWorkflowEngineService; db: Knex }

/** Starts RUNS runs at once and waits for every retry; per run, its lateness and (ours) its timer's due time. */
async function batch({ engine, db }: Engine, prefix: string, ours: boolean) {
  const keys = Array.from(
    { length: RUNS },
    (_, i) => `${prefix}-${process.pid}-${i}`
  )
  await Promise.all(
    keys.map((key) =>
      engine.run(WORKFLOW_ID, {
        transactionId: key,
        input: { key },
        throwOnError: false,
      })
    )
  )
  // Each run returned once its retry was set: the timer rows are there until they fire, a second later.
  const dueAt = new Map<string, number>()
  if (ours) {
    const { rows } = await db.raw(
      `SELECT "transaction_id", "due_at" FROM "workflow_execution_timer" WHERE "kind" = 'retry' AND "transaction_id" = ANY (?)`,
      [keys]
    )
    rows.forEach((row: { transaction_id: string; due_at: Date }) =>
      dueAt.set(row.transaction_id, row.due_at.getTime())
    )
  }
  const deadline = Date.now() + DEADLINE_MS
  while (keys.some((key) => attempts.get(key)?.retriedAt === undefined)) {
    if (Date.now() > deadline) {
      throw new Error(`not every retry ran within ${DEADLINE_MS} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return keys.map((key) => {
    const { failedAt, retriedAt } = attempts.get(key)!
    const due = failedAt + RETRY_INTERVAL_SECONDS * 1000
    const timerDue = dueAt.get(key)
    return {
      lateness: retriedAt! - due,
      setLate: timerDue === undefined ? undefined : timerDue - due,
      firedLate: timerDue === undefined ? undefined : retriedAt! - timerDue,
    }
  })
}

async function main(): Promise<void> {
  const engineName = process.env.BENCH_ENGINE ?? "ours"
  const { medusaApp, shutdown } = await initModules({
    databaseConfig: { clientUrl: process.env.DATABASE_URL!, schema: "public" },
    modulesConfig: {
      [Modules.WORKFLOW_ENGINE]: {
        resolve: TIMER_ENGINES[engineName],
        options: {},
      },
    },
    injectedDependencies: {
      logger: { ...console, info() {}, debug() {}, warn() {} },
    },
  })
  const engine = {
    engine: medusaApp.modules[
      Modules.WORKFLOW_ENGINE
    ] as IWorkflowEngineService,
    db: medusaApp.sharedContainer!.resolve(
      ContainerRegistrationKeys.PG_CONNECTION
    ) as Knex,
  }
  defineWorkflow()

  // A server runs warm: one batch, not recorded, compiles the paths a retry takes.
  await batch(engine, "bench-timer-warmup", false)
  const runs = await batch(engine, "bench-timer", engineName === "ours")
  const defined = (values: (number | undefined)[]) =>
    values.filter((v): v is number => v !== undefined)
  const round: TimerRound = {
    engine: engineName,
    latenessMs: runs.map((run) => run.lateness),
    ...(engineName === "ours"
      ? {
          setLateMs: defined(runs.map((run) => run.setLate)),
          firedLateMs: defined(runs.map((run) => run.firedLate)),
        }
      : {}),
  }
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(round)}\n`)
  await shutdown()
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
}
