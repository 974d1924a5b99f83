import { Logger } from "@medusajs/framework/types"
import { Client, ClientConfig } from "pg"
import { FINISH_COUNTING_SQL } from "./count-trigger-functions"
import {
  DEFERRED_INDEXES,
  IN_FLIGHT_DUPLICATES_WARNING,
} from "./deferred-indexes"
import { advanceTask } from "./sql/advance-task"
import { backfillExpiryBatch } from "./sql/backfill-expiry-batch"
import { backfillRetentionBatch } from "./sql/backfill-retention-batch"
import { backfillResourceIdsBatch } from "./backfill-resource-ids"
import {
  createIndexConcurrently,
  dropIndexConcurrently,
  indexState,
  trigramSchema,
} from "./sql/build-index"
import { countBatch, lockForCounting } from "./sql/count-batch"
import { nextBoundary } from "./sql/next-boundary"
import { pendingTasks, PendingTask } from "./sql/pending-tasks"
import { ExecutionKey } from "./sql/types"
import {
  COUNT_BACKFILL,
  EXPIRY_BACKFILL,
  indexTask,
  RESOURCE_IDS_BACKFILL,
  RETENTION_BACKFILL,
} from "./upgrade-tasks"

export type OnlineUpgradeOptions = {
  /** Rows per back-fill batch: each batch is one short transaction. Default 5,000. */
  batchSize?: number
  /** How long a counting batch may wait for the table's lock (writers queue behind it meanwhile), in ms. Default 200. */
  lockTimeoutMs?: number
  /** Wait for another session running the upgrade, then run what is left (tests); by default return at once. */
  wait?: boolean
  logger?: Pick<Logger, "info" | "warn">
  /** Stops between two steps once aborted (shutdown); an index build in hand is cancelled by the caller. */
  signal?: AbortSignal
  /** Told the backend pid of the upgrade's connection once connected, so a caller can cancel a build. */
  onConnected?: (pid: number) => void
}

export type OnlineUpgradeResult = {
  /** False when another session holds the upgrade (it runs the tasks), or it was aborted before its end. */
  ran: boolean
  /** Tasks finished, in the order they ran. */
  finished: string[]
  /** Rows the back-fills wrote or counted, and in how many batches. */
  rows: number
  batches: number
  ms: number
  /** The longest counting batch, during which writers of the table waited, in ms. */
  longestLockedBatchMs: number
}

const DEFAULT_BATCH_SIZE = 5_000
const DEFAULT_LOCK_TIMEOUT_MS = 200
/** One upgrade per database at a time, whichever instance or command runs it. */
const UPGRADE_LOCK_NAME = "medusa-workflow-engine-postgres:online-upgrade"
const LOCK_NOT_AVAILABLE = "55P03"
const UNIQUE_VIOLATION = "23505"

/** Back-fills first (counts make the admin's totals cheap again), then index builds; retention before expiry, which reads it. */
const ORDER = [
  COUNT_BACKFILL,
  RETENTION_BACKFILL,
  EXPIRY_BACKFILL,
  RESOURCE_IDS_BACKFILL,
  ...Object.keys(DEFERRED_INDEXES).map(indexTask),
]

const BACKFILLS: Record<
  string,
  (
    db: Client,
    after: ExecutionKey | null,
    through: ExecutionKey | null
  ) => Promise<number>
> = {
  [RETENTION_BACKFILL]: backfillRetentionBatch,
  [EXPIRY_BACKFILL]: backfillExpiryBatch,
  [COUNT_BACKFILL]: countBatch,
  [RESOURCE_IDS_BACKFILL]: backfillResourceIdsBatch,
}

/**
 * Finishes what our migrations left to do after `medusa db:migrate`
 * committed them (see upgrade-tasks.ts): back-fills in batches of short
 * transactions that writers interleave with, and index builds CONCURRENTLY,
 * on a connection of its own. Once per database at a time (a session
 * advisory lock); resumable: each batch records how far it got, an index an
 * interrupted build left invalid is dropped and built again. Until a task is
 * finished the module answers as before it: totals are counted by the query,
 * a query without its index reads the table.
 */
export async function runOnlineUpgrade(
  connection: string | ClientConfig,
  options: OnlineUpgradeOptions = {}
): Promise<OnlineUpgradeResult> {
  const started = performance.now()
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS
  const logger = options.logger ?? console
  const result: OnlineUpgradeResult = {
    ran: false,
    finished: [],
    rows: 0,
    batches: 0,
    ms: 0,
    longestLockedBatchMs: 0,
  }
  const db = new Client(
    typeof connection === "string"
      ? { connectionString: connection }
      : connection
  )
  db.on("error", (error) => {
    // Ended on purpose by the caller's shutdown (see OnlineUpgradeRunner.stop) is no news.
    if (!options.signal?.aborted) {
      logger.warn(`Workflow engine upgrade: connection lost: ${error.message}`)
    }
  })
  await db.connect()
  try {
    const { rows } = await db.query(`SELECT pg_backend_pid() AS pid`)
    options.onConnected?.(rows[0].pid)
    // Builds and batches must not be cut by a timeout the application's sessions use.
    await db.query(`SET statement_timeout = 0`)
    const locked = await db.query(
      options.wait
        ? `SELECT pg_advisory_lock(hashtext($1)) IS NOT NULL AS locked`
        : `SELECT pg_try_advisory_lock(hashtext($1)) AS locked`,
      [UPGRADE_LOCK_NAME]
    )
    if (!locked.rows[0].locked) {
      return result
    }
    const pending = await pendingTasks(db)
    const byOrder = (pending ?? []).sort((a, b) => rank(a.name) - rank(b.name))
    for (const task of byOrder) {
      if (options.signal?.aborted) {
        return result
      }
      if (task.name in BACKFILLS) {
        await backfill(
          db,
          task,
          batchSize,
          lockTimeoutMs,
          result,
          options.signal
        )
      } else if (task.name.startsWith(indexTask(""))) {
        await buildIndex(db, task.name.slice(indexTask("").length), logger)
      } else {
        logger.warn(
          `Workflow engine upgrade: unknown task ${task.name} left queued`
        )
        continue
      }
      if (options.signal?.aborted) {
        return result
      }
      result.finished.push(task.name)
    }
    result.ran = true
    if (result.finished.length) {
      logger.info(
        `Workflow engine upgrade finished ${result.finished.join(", ")} in ${Math.round(performance.now() - started)} ms`
      )
    }
    return result
  } finally {
    result.ms = performance.now() - started
    await db
      .end()
      .catch((error) =>
        logger.warn(
          `Workflow engine upgrade: could not close its session: ${error}`
        )
      )
  }
}

function rank(name: string): number {
  const at = ORDER.indexOf(name)
  return at < 0 ? ORDER.length : at
}

async function backfill(
  db: Client,
  task: PendingTask,
  batchSize: number,
  lockTimeoutMs: number,
  result: OnlineUpgradeResult,
  signal?: AbortSignal
): Promise<void> {
  const counting = task.name === COUNT_BACKFILL
  let after = task.afterKey
  for (;;) {
    if (signal?.aborted) {
      return
    }
    const batchStarted = performance.now()
    await db.query("BEGIN")
    try {
      if (counting) {
        after = await lockForCounting(db, lockTimeoutMs)
      }
      const through = await nextBoundary(db, after, batchSize)
      result.rows += await BACKFILLS[task.name](db, after, through)
      await advanceTask(db, task.name, through)
      if (counting && !through) {
        // Every row is counted from now on: the triggers stop reading the task table, under the same lock.
        for (const statement of FINISH_COUNTING_SQL) {
          await db.query(statement)
        }
      }
      await db.query("COMMIT")
      result.batches++
      if (counting) {
        result.longestLockedBatchMs = Math.max(
          result.longestLockedBatchMs,
          performance.now() - batchStarted
        )
      }
      if (!through) {
        return
      }
      after = through
    } catch (error) {
      await db.query("ROLLBACK")
      // A long transaction held the table: writers waited at most the timeout; try again after them.
      if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) {
        throw error
      }
    }
  }
}

async function buildIndex(
  db: Client,
  name: string,
  logger: Pick<Logger, "warn">
): Promise<void> {
  const definition = DEFERRED_INDEXES[name]
  const state = await indexState(db, name)
  if (state === "invalid") {
    await dropIndexConcurrently(db, name)
  }
  const on = definition?.on(await trigramSchema(db))
  if (state !== "valid" && on) {
    try {
      await createIndexConcurrently(db, name, !!definition.unique, on)
    } catch (error) {
      if (
        (error as { code?: string }).code !== UNIQUE_VIOLATION ||
        !definition.unique
      ) {
        throw error
      }
      // Rows another engine left; the guard is skipped rather than touching them (see the first migration).
      await dropIndexConcurrently(db, name)
      logger.warn(IN_FLIGHT_DUPLICATES_WARNING)
    }
  }
  await advanceTask(db, indexTask(name), null)
}
