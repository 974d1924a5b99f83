/**
 * Purge benchmark: 200,000 expired executions among 300,000 (issue #10's size), removed
 *   - by this engine's purge (ExecutionRetention.purgeExpired, batched),
 *   - by one DELETE statement (the shape of Medusa's engines' clean-up),
 *   - by Medusa's in-memory engine itself (its storage's clearExpiredExecutions),
 * on the same data, rounds interleaved, medians reported.
 *
 *   npm run bench -- purge       BENCH_ROWS, BENCH_EXPIRED, BENCH_ROUNDS override the sizes
 *                                (BENCH_ROWS=1200000 BENCH_EXPIRED=1000000 is issue #3's size);
 *                                BENCH_WAL_COMPRESSION=lz4 sets wal_compression on the bench database
 *
 * Deleting a row rewrites its page, and the first write of a page after a
 * checkpoint logs the whole page: WAL volume bounds every approach here, which
 * is why wal_compression is worth measuring.
 */
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { Modules } from "@medusajs/framework/utils"
import { initModules } from "@medusajs/test-utils"
import { resolveOptions } from "../src/modules/workflow-engine/options"
import { ExecutionRetention } from "../src/modules/workflow-engine/retention/execution-retention"
import { benchDatabase, median, migrateOurs, table } from "./support"

const ROWS = Number(process.env.BENCH_ROWS ?? 300_000)
const EXPIRED = Number(process.env.BENCH_EXPIRED ?? 200_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

type Measure = {
  ms: number
  deleted: number
  longestBatchMs: number
  rssGrowthMb: number
}

// About 1 KB of flow, like a 3-step stored run.
const EXECUTION = JSON.stringify({
  state: "done",
  modelId: "bench-workflow",
  options: { store: true, retentionTime: 60 },
  metadata: { eventGroupId: "01JBENCH0000000000000000" },
  startedAt: 1737719880027,
  timedOutAt: null,
  hasAsyncSteps: false,
  hasFailedSteps: false,
  hasSkippedSteps: false,
  hasWaitingSteps: false,
  hasRevertedSteps: false,
  hasSkippedOnFailureSteps: false,
  steps: Object.fromEntries(
    ["one", "two", "three"].map((name) => [
      `_root.${name}`,
      {
        id: `_root.${name}`,
        depth: 1,
        invoke: { state: "done", status: "ok" },
        compensate: { state: "dormant", status: "idle" },
        definition: {
          action: `bench-step-${name}`,
          store: false,
          noCompensation: true,
        },
        attempts: 1,
        failures: 0,
        startedAt: 1737719880030,
        lastAttempt: 1737719880030,
        saveResponse: true,
      },
    ])
  ),
})

async function seed(db: Knex): Promise<void> {
  const kept = ROWS - EXPIRED
  await db.raw(`DROP TABLE IF EXISTS bench_seed`)
  // Expired: finished, updated long enough ago for their 60 s retention.
  // Kept: a quarter finished rows with a day to go, a quarter old in-flight rows
  // (with a retention for when they finish), half finished without retention.
  // Each row's timestamps are its own (a millisecond apart), as in a live store,
  // not 30 values shared by thousands of rows.
  await db.raw(
    `CREATE TABLE bench_seed AS
     SELECT 'wf_exec_bench_' || lpad(i::text, 8, '0') AS id,
            'bench-workflow-' || (i % 20) AS workflow_id,
            'auto-bench-' || i AS transaction_id,
            'run-' || i AS run_id,
            ?::jsonb AS execution,
            '{"data":{"payload":{"cart_id":"cart_01"},"invoke":{},"compensate":{}},"errors":[]}'::jsonb AS context,
            CASE WHEN i <= ? THEN (ARRAY['done','failed','reverted'])[1 + i % 3]
                 WHEN i % 4 = 1 THEN 'invoking' ELSE 'done' END AS state,
            CASE WHEN i <= ? THEN 60 WHEN i % 4 = 0 THEN 86400 WHEN i % 4 = 1 THEN 60 END AS retention_time,
            ts AS created_at,
            ts AS updated_at,
            NULL::timestamptz AS deleted_at,
            CASE WHEN i <= ? THEN ts + interval '60 seconds'
                 WHEN i % 4 = 0 THEN ts + interval '1 day' END AS expires_at
       FROM generate_series(1, ?) AS i,
            LATERAL (SELECT CASE WHEN i <= ? OR i % 4 = 1 THEN now() - make_interval(days => 1 + i % 30)
                                 ELSE now() END - make_interval(secs => i / 1000.0) AS ts) AS t`,
    [EXECUTION, EXPIRED, EXPIRED, EXPIRED, ROWS, EXPIRED]
  )
  console.log(
    `seeded ${ROWS} rows (${EXPIRED} expired) in bench_seed; ${kept} must stay`
  )
}

async function reload(db: Knex): Promise<void> {
  await db.raw(`TRUNCATE workflow_execution`)
  await db.raw(
    `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, execution, context, state,
                                     retention_time, created_at, updated_at, deleted_at, expires_at)
     SELECT id, workflow_id, transaction_id, run_id, execution, context, state,
            retention_time, created_at, updated_at, deleted_at, expires_at FROM bench_seed
      -- Rows land in the table in the order they were created, as in a live store.
      ORDER BY created_at`
  )
  await db.raw(`VACUUM ANALYZE workflow_execution`)
  // Every approach starts from a clean buffer cache state, not while the load is still being flushed.
  await db.raw(`CHECKPOINT`)
}

async function measure(
  run: () => Promise<{ deleted: number; longestBatchMs?: number }>
): Promise<Measure> {
  global.gc?.()
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(
    () => (peak = Math.max(peak, process.memoryUsage().rss)),
    20
  )
  const started = performance.now()
  try {
    const { deleted, longestBatchMs } = await run()
    const ms = performance.now() - started
    return {
      ms,
      deleted,
      longestBatchMs: longestBatchMs ?? ms,
      rssGrowthMb:
        (Math.max(peak, process.memoryUsage().rss) - before) / 2 ** 20,
    }
  } finally {
    clearInterval(sampler)
  }
}

export async function run(): Promise<void> {
  const walCompression = process.env.BENCH_WAL_COMPRESSION
  const { url, db } = await benchDatabase(
    "medusa_wep_bench_purge",
    walCompression ? { wal_compression: walCompression } : {}
  )
  console.log(
    `wal_compression: ${(await db.raw(`SHOW wal_compression`)).rows[0].wal_compression}`
  )
  await migrateOurs(url)
  await seed(db)

  const retention = new ExecutionRetention(
    db,
    console as any,
    resolveOptions({})
  )
  const medusa = await initModules({
    databaseConfig: { clientUrl: url, schema: "public" },
    modulesConfig: {
      [Modules.WORKFLOW_ENGINE]: {
        resolve: "@medusajs/workflow-engine-inmemory",
        options: {},
      },
    },
    injectedDependencies: { logger: { ...console, info() {}, debug() {} } },
    preventConnectionDestroyWarning: true,
  })
  const medusaStorage = (medusa.medusaApp.modules as any)[
    Modules.WORKFLOW_ENGINE
  ].__container__.inMemoryDistributedTransactionStorage

  const approaches: Record<
    string,
    () => Promise<{ deleted: number; longestBatchMs?: number }>
  > = {
    ours: async () => {
      const result = await retention.purgeExpired({}, "manual")
      return {
        deleted: result.deleted,
        longestBatchMs: result.longest_batch_ms,
      }
    },
    "one DELETE": async () => {
      const result = await db.raw(
        `DELETE FROM workflow_execution
          WHERE retention_time IS NOT NULL
            AND updated_at <= CURRENT_TIMESTAMP - (INTERVAL '1 second' * retention_time)
            AND state IN ('done', 'failed', 'reverted')`
      )
      return { deleted: result.rowCount }
    },
    "medusa in-memory engine": async () => {
      await medusaStorage.clearExpiredExecutions()
      const { rows } = await db.raw(
        `SELECT count(*)::int AS left FROM workflow_execution`
      )
      return { deleted: ROWS - rows[0].left }
    },
  }

  const results: Record<string, Measure[]> = Object.fromEntries(
    Object.keys(approaches).map((name) => [name, []])
  )
  const names = Object.keys(approaches)
  for (let round = 0; round < ROUNDS; round++) {
    // Interleaved, and rotated so no approach always runs on the warmest cache.
    for (const name of [
      ...names.slice(round % names.length),
      ...names.slice(0, round % names.length),
    ]) {
      await reload(db)
      const measured = await measure(approaches[name])
      const { rows } = await db.raw(
        `SELECT count(*)::int AS left FROM workflow_execution`
      )
      if (measured.deleted !== EXPIRED || rows[0].left !== ROWS - EXPIRED) {
        throw new Error(
          `${name} deleted ${measured.deleted} and left ${rows[0].left}; expected ${EXPIRED} and ${ROWS - EXPIRED}`
        )
      }
      results[name].push(measured)
      console.log(
        `round ${round + 1} ${name}: ${Math.round(measured.ms)} ms, longest batch ${Math.round(measured.longestBatchMs)} ms, RSS +${measured.rssGrowthMb.toFixed(1)} MB`
      )
    }
  }

  const ours = median(results.ours.map((m) => m.ms))
  const oneDelete = median(results["one DELETE"].map((m) => m.ms))
  console.log(
    `\nPurge of ${EXPIRED.toLocaleString("en")} expired rows among ${ROWS.toLocaleString("en")}, median of ${ROUNDS} rounds\n`
  )
  console.log(
    table(
      [
        "approach",
        "total ms",
        "rows/s",
        "rows/s vs one DELETE",
        "longest batch ms",
        "RSS growth MB",
      ],
      names.map((name) => {
        const ms = median(results[name].map((m) => m.ms))
        return [
          name,
          Math.round(ms),
          Math.round(EXPIRED / (ms / 1000)),
          `${(oneDelete / ms).toFixed(2)}x`,
          Math.round(median(results[name].map((m) => m.longestBatchMs))),
          median(results[name].map((m) => m.rssGrowthMb)).toFixed(1),
        ]
      })
    )
  )
  // The server is shared: a ratio within each round, where both ran minutes apart, is steadier than one of medians.
  const paired = results.ours.map(
    (m, round) => results["one DELETE"][round].ms / m.ms
  )
  console.log(
    `\nours vs one DELETE (rows/s): ${(oneDelete / ours).toFixed(2)}x of the medians; per round ${paired
      .map((ratio) => `${ratio.toFixed(2)}x`)
      .join(", ")}, median ${median(paired).toFixed(2)}x`
  )

  await medusa.shutdown()
  await db.destroy()
}
