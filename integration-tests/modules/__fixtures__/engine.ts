import {
  IWorkflowEngineService,
  Logger,
  MedusaContainer,
} from "@medusajs/framework/types"
import {
  ContainerRegistrationKeys,
  TransactionHandlerType,
} from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { AsyncLocalStorage } from "async_hooks"
import { createHash } from "crypto"
import path from "path"

export const MODULE_PATH = path.join(
  __dirname,
  "../../../src/modules/workflow-engine"
)
export const MIGRATIONS_PATH = path.join(MODULE_PATH, "migrations")

/**
 * The database the module suites run in, one per checkout. Medusa's runner
 * names it after the module and the Jest worker only
 * (`medusa-workflows-integration-1`), so two checkouts testing on one server
 * at once (two worktrees, or a branch and main) would drop each other's
 * schema mid-test. MikroORM creates it on first use.
 */
export const TEST_DATABASE = `medusa-wep-test-${createHash("sha1").update(path.resolve(__dirname, "../../..")).digest("hex").slice(0, 8)}`

/** A sub-workflow run as a step gets the transaction id `<workflow>-as-step-<parent transaction id>`, `-attempt-<n>` on retries. */
export const asStepTransaction = (
  workflowId: string,
  parentTransactionId: string
) => `${workflowId}-as-step-${parentTransactionId}`

export function knexOf(medusaApp: { sharedContainer?: MedusaContainer }): Knex {
  return medusaApp.sharedContainer!.resolve(
    ContainerRegistrationKeys.PG_CONNECTION
  )
}

type Recording = { statements: string[]; prepared: string[] }
const recording = new AsyncLocalStorage<Recording>()
const hooked = new WeakSet<object>()

/**
 * Wraps `query` of the driver's client class once, so that every statement
 * reaches the recording: the engine sends its hot statements straight to a
 * pooled connection (named prepared statements), past knex's `query` event.
 */
async function hookDriver(db: Knex): Promise<void> {
  const connection = await db.client.acquireConnection()
  const prototype = Object.getPrototypeOf(connection)
  await db.client.releaseConnection(connection)
  if (hooked.has(prototype)) {
    return
  }
  hooked.add(prototype)
  const query = prototype.query
  prototype.query = function (
    config: string | { text: string; name?: string },
    ...rest: unknown[]
  ) {
    const store = recording.getStore()
    if (store) {
      store.statements.push(typeof config === "string" ? config : config.text)
      if (typeof config !== "string" && config.name) {
        store.prepared.push(config.name)
      }
    }
    return query.call(this, config, ...rest)
  }
}

/**
 * Every SQL statement `work` sends to Postgres, BEGIN and COMMIT included,
 * and the names of those sent as named prepared statements. Statements of
 * the engine's background loops (lease, timers, schedules), sent meanwhile
 * from their own async contexts, are not `work`'s and are left out.
 */
export async function recordSql<T>(
  db: Knex,
  work: () => Promise<T>
): Promise<{ result: T } & Recording> {
  await hookDriver(db)
  const record: Recording = { statements: [], prepared: [] }
  const result = await recording.run(record, work)
  return { result, ...record }
}

export type RecordingLogger = Logger & {
  infos: string[]
  warnings: string[]
  errors: string[]
}

/** A logger that keeps what it is told at each level, and prints nothing. */
export function recordingLogger(): RecordingLogger {
  const infos: string[] = []
  const warnings: string[] = []
  const errors: string[] = []
  return {
    ...console,
    debug: () => undefined,
    info: (message: string) => void infos.push(String(message)),
    warn: (message: string) => void warnings.push(String(message)),
    error: (message: string) => void errors.push(String(message)),
    infos,
    warnings,
    errors,
  } as unknown as RecordingLogger
}

/** Resolves with the onFinish event of a transaction, however it gets there. */
export function waitForFinish(
  engine: IWorkflowEngineService,
  workflowId: string,
  transactionId: string
): Promise<{ state: string; result?: unknown; errors?: unknown[] }> {
  return new Promise((resolve) => {
    void engine.subscribe({
      workflowId,
      transactionId,
      subscriber: (event: any) => {
        if (event.eventType === "onFinish") {
          resolve(event)
        }
      },
    })
  })
}

/** The raw rows of a transaction, as the table holds them. */
export async function rowsOf(db: Knex, transactionId: string) {
  const { rows } = await db.raw(
    `SELECT * FROM workflow_execution WHERE transaction_id = ? ORDER BY created_at`,
    [transactionId]
  )
  return rows
}

/**
 * Polls `check` every `everyMs` until it holds, failing with `what` once
 * `timeoutMs` passed: for something to happen that the database or a process
 * reports, never for time to pass. The one poll of the test suites.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30000,
  { what = "condition", everyMs = 20 }: { what?: string; everyMs?: number } = {}
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`${what}: not met within ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/** `promise`, or a rejection naming `what` once `ms` passed without it settling: a deadline on an awaited event. */
export function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string
): Promise<T> {
  let timer: NodeJS.Timeout
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: not within ${ms} ms`)),
      ms
    )
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

/**
 * Runs `work` (starts of runs, in this process or others) while the test holds
 * workflow_execution in SHARE mode: lookups read on, inserts wait. Once
 * `inserts` of them wait, every start has looked its run up and found
 * nothing, so when the lock goes, the unique indexes alone decide between
 * them, as when several instances start one run at the same moment.
 */
export async function withInsertsHeld<T>(
  db: Knex,
  inserts: number,
  work: () => Promise<T>
): Promise<T> {
  const gate = await db.transaction()
  let running: Promise<T>
  try {
    await gate.raw(`LOCK TABLE "workflow_execution" IN SHARE MODE`)
    running = work()
    // Checked below, once the lock is released; until then a failure shows as inserts that never come.
    running.catch(() => undefined)
    await waitUntil(async () => (await waitingInserts(db)) === inserts)
  } finally {
    await gate.commit()
  }
  return await running
}

// Backends of this database whose insert into workflow_execution waits for a lock.
async function waitingInserts(db: Knex): Promise<number> {
  const { rows } = await db.raw(
    `SELECT count(*)::int AS waiting FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'
        AND query LIKE 'INSERT INTO "workflow_execution"%'`
  )
  return rows[0].waiting
}

/**
 * Medusa's module test runner hands the app its own connection and so never
 * runs the modules' shutdown hooks: without this, each test would leave an
 * engine instance running (its lease, LISTEN connection and timers) while the
 * runner drops the schema and the next test's engine starts on the same
 * database. The suite runs in a describe of its own, so that its afterEach
 * stops the engine before the runner's afterEach clears the database.
 */
export function withEngineShutdown<T extends { service: object }>(
  suite: (args: T) => void
): (args: T) => void {
  type Hooks = { __hooks?: { onApplicationShutdown?: () => Promise<void> } }
  return (args) => {
    describe("", () => {
      // Taken while the test's engine is current: the runner forgets it once the test ends.
      let shutdown: (() => Promise<void>) | undefined
      beforeEach(() => {
        shutdown = (args.service as Hooks).__hooks?.onApplicationShutdown
      })
      afterEach(async () => {
        await shutdown?.()
        shutdown = undefined
      })
      suite(args)
    })
  }
}

/** What `setStepSuccess` takes to answer the invoke of `stepId` in a run, with `{ answered: stepId }`. */
export const stepSuccess = (
  workflowId: string,
  transactionId: string,
  stepId: string
) => ({
  idempotencyKey: {
    workflowId,
    transactionId,
    stepId,
    action: TransactionHandlerType.INVOKE,
  },
  stepResponse: { answered: stepId },
})
