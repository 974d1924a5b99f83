/**
 * Pending-upgrade benchmark: a store that has just switched from Medusa's
 * engine, before anything ran the online upgrade. BENCH_ROWS Medusa-written
 * runs (two thirds past their retention; see insertMedusaRowsAtScale) in the
 * table Medusa's own migrations made, then `medusa db:migrate` of a whole
 * Medusa app with this engine (the HTTP tests' app): every upgrade task
 * queued, `expires_at` NULL on every row, none of our indexes. That database
 * is a template; each measurement that deletes gets a fresh copy of it
 * (`CREATE DATABASE … TEMPLATE`), vacuumed, analyzed and checkpointed as the
 * template was.
 *
 * Purges, rounds interleaved and rotated, medians:
 *   - ours from `medusa exec` (the app's purge script): the pass's own duration_ms;
 *   - ours in this process (the module, as a `server` instance runs it), one pass, then two at once;
 *   - one raw DELETE with the condition of Medusa's engines' clean-up;
 *   - Medusa's in-memory engine's own clearExpiredExecutions(), booted on the copy.
 * Each checks that exactly the expired rows went.
 *
 * Reads, on one untouched copy: each call BENCH_CALLS times after 2 warm-ups,
 * through our module and through Medusa's in-memory engine module on the same
 * table (its indexes, our migrations' columns), medians.
 *
 *   npm run bench -- pending-upgrade     BENCH_ROWS (300,000), BENCH_ROUNDS (3), BENCH_CALLS (10)
 */
import { knex, Knex } from "@medusajs/framework/mikro-orm/knex"
import { MedusaApp, MedusaModule } from "@medusajs/framework/modules-sdk"
import {
  ContainerRegistrationKeys,
  createPgConnection,
  Modules,
} from "@medusajs/framework/utils"
import { initModules } from "@medusajs/test-utils"
import path from "path"
import { Client } from "pg"
import { medusa } from "../integration-tests/http/__fixtures__/medusa-app"
import { PURGE_RESULT_MARKER } from "../integration-tests/http/app/src/scripts/purge-expired"
import {
  insertMedusaRowsAtScale,
  ScaleSeed,
} from "../integration-tests/modules/__fixtures__/migrations/medusa-rows-at-scale"
import { MEDUSA_WORKFLOW } from "../integration-tests/modules/__fixtures__/migrations/medusa-rows"
import {
  benchDatabase,
  databaseUrl,
  MEDUSA_MIGRATIONS,
  median,
  migrate,
  table,
} from "./support"

const ROWS = Number(process.env.BENCH_ROWS ?? 300_000)
const SEED: ScaleSeed = { rows: ROWS, expired: Math.round((ROWS * 2) / 3) }
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CALLS = Number(process.env.BENCH_CALLS ?? 10)
const TEMPLATE = "medusa_wep_bench_pending_template"
const COPY = "medusa_wep_bench_pending"
const OURS = path.join(__dirname, "../src/modules/workflow-engine")
const MEDUSA_ENGINE = "@medusajs/workflow-engine-inmemory"
const quiet = { ...console, info() {}, debug() {}, warn() {}, log() {} }

/** The store's database as `medusa db:migrate` leaves it after the switch. */
async function prepareTemplate(): Promise<void> {
  const started = performance.now()
  const { url, db } = await benchDatabase(TEMPLATE, { timezone: "UTC" })
  try {
    await migrate(url, MEDUSA_MIGRATIONS)
    const client = new Client({ connectionString: url })
    await client.connect()
    try {
      await insertMedusaRowsAtScale(client, SEED)
    } finally {
      await client.end()
    }
    await db.raw(`VACUUM ANALYZE workflow_execution`)
    await medusa(["db:migrate"], url)
    const { rows } = await db.raw(
      `SELECT count(*)::int AS queued FROM workflow_engine_upgrade_task`
    )
    const { rows: filled } = await db.raw(
      `SELECT count(*)::int AS filled FROM workflow_execution WHERE expires_at IS NOT NULL`
    )
    if (rows[0].queued !== 10 || filled[0].filled !== 0) {
      throw new Error(
        `Expected every upgrade task queued and no expiry filled in, got ${rows[0].queued} tasks, ${filled[0].filled} expiries`
      )
    }
    const size = (
      await db.raw(
        `SELECT pg_size_pretty(pg_total_relation_size('workflow_execution')) AS size`
      )
    ).rows[0].size
    console.log(
      `template: ${ROWS} rows (${SEED.expired} expired, ${size} with indexes), upgrade pending, in ${Math.round((performance.now() - started) / 1000)} s`
    )
  } finally {
    await db.destroy()
  }
}

/** A fresh copy of the template, settled: no round pays for another's writes. */
async function freshCopy(): Promise<string> {
  const admin = knex({ client: "pg", connection: databaseUrl("postgres") })
  try {
    await admin.raw(`DROP DATABASE IF EXISTS ?? WITH (FORCE)`, [COPY])
    await admin.raw(`CREATE DATABASE ?? TEMPLATE ??`, [COPY, TEMPLATE])
    // Database settings stay with the template's name, not its files.
    await admin.raw(`ALTER DATABASE ?? SET timezone = 'UTC'`, [COPY])
  } finally {
    await admin.destroy()
  }
  const url = databaseUrl(COPY)
  await withDb(url, async (db) => {
    await db.raw(`VACUUM ANALYZE workflow_execution`)
    await db.raw(`CHECKPOINT`)
  })
  return url
}

async function withDb<T>(
  url: string,
  work: (db: Knex) => Promise<T>
): Promise<T> {
  const db = knex({ client: "pg", connection: url, pool: { min: 1, max: 2 } })
  try {
    return await work(db)
  } finally {
    await db.destroy()
  }
}

/** Exactly the expired rows gone, nothing else. */
async function checkPurged(
  url: string,
  name: string,
  deleted: number
): Promise<void> {
  const { rows } = await withDb(url, (db) =>
    db.raw(
      `SELECT count(*)::int AS left, count(*) FILTER (WHERE substr(id, 17)::int <= ?)::int AS expired_left FROM workflow_execution`,
      [SEED.expired]
    )
  )
  if (
    deleted !== SEED.expired ||
    rows[0].left !== SEED.rows - SEED.expired ||
    rows[0].expired_left !== 0
  ) {
    throw new Error(
      `${name} deleted ${deleted}, left ${rows[0].left} rows (${rows[0].expired_left} expired)`
    )
  }
}

/** A Workflow Engine module on `url`, started as a `server` instance starts it (no background work, so no upgrade). */
async function bootEngine(url: string, resolve: string) {
  const pg = createPgConnection({ clientUrl: url, schema: "public" })
  const app = await MedusaApp({
    modulesConfig: { [Modules.WORKFLOW_ENGINE]: { resolve, options: {} } },
    injectedDependencies: {
      [ContainerRegistrationKeys.PG_CONNECTION]: pg,
      logger: quiet,
    },
    workerMode: "server",
  })
  await app.onApplicationStart()
  return {
    service: app.modules[Modules.WORKFLOW_ENGINE] as any,
    shutdown: async () => {
      await app.onApplicationPrepareShutdown()
      await app.onApplicationShutdown()
      await pg.destroy()
      MedusaModule.clearInstances()
    },
  }
}

type Purged = { ms: number; deleted: number; longestBatchMs: number | null }

const PURGES: Record<string, (url: string) => Promise<Purged>> = {
  "ours, `medusa exec`": async (url) => {
    const output = await medusa(
      ["exec", "./src/scripts/purge-expired.ts"],
      url,
      { PURGE_ONLY: "1" }
    )
    const line = output
      .split("\n")
      .find((l) => l.startsWith(PURGE_RESULT_MARKER))
    if (!line) {
      throw new Error(
        `The purge script printed no result:\n${output.slice(-4000)}`
      )
    }
    const { purge } = JSON.parse(line.slice(PURGE_RESULT_MARKER.length))
    return {
      ms: purge.duration_ms,
      deleted: purge.deleted,
      longestBatchMs: purge.longest_batch_ms,
    }
  },
  "ours, in process": async (url) => {
    const engine = await bootEngine(url, OURS)
    try {
      const started = performance.now()
      const purge = await engine.service.purgeExpiredExecutions({})
      return {
        ms: performance.now() - started,
        deleted: purge.deleted,
        longestBatchMs: purge.longest_batch_ms,
      }
    } finally {
      await engine.shutdown()
    }
  },
  "ours, two passes at once": async (url) => {
    const engine = await bootEngine(url, OURS)
    try {
      const started = performance.now()
      const passes = await Promise.all([
        engine.service.purgeExpiredExecutions({}),
        engine.service.purgeExpiredExecutions({}),
      ])
      return {
        ms: performance.now() - started,
        deleted: passes[0].deleted + passes[1].deleted,
        longestBatchMs: Math.max(
          passes[0].longest_batch_ms,
          passes[1].longest_batch_ms
        ),
      }
    } finally {
      await engine.shutdown()
    }
  },
  "one raw DELETE (Medusa's condition)": async (url) =>
    withDb(url, async (db) => {
      const started = performance.now()
      const result = await db.raw(
        `DELETE FROM workflow_execution
          WHERE retention_time IS NOT NULL
            AND updated_at <= CURRENT_TIMESTAMP - (INTERVAL '1 second' * retention_time)
            AND state IN ('done', 'failed', 'reverted')`
      )
      return {
        ms: performance.now() - started,
        deleted: result.rowCount,
        longestBatchMs: null,
      }
    }),
  "Medusa's engine (clearExpiredExecutions)": async (url) => {
    const { medusaApp, shutdown } = await initModules({
      databaseConfig: { clientUrl: url, schema: "public" },
      modulesConfig: {
        [Modules.WORKFLOW_ENGINE]: { resolve: MEDUSA_ENGINE, options: {} },
      },
      injectedDependencies: { logger: quiet },
    })
    try {
      const storage = (medusaApp.modules as any)[Modules.WORKFLOW_ENGINE]
        .__container__.inMemoryDistributedTransactionStorage
      const started = performance.now()
      await storage.clearExpiredExecutions()
      const ms = performance.now() - started
      const { rows } = await withDb(url, (db) =>
        db.raw(`SELECT count(*)::int AS left FROM workflow_execution`)
      )
      return { ms, deleted: SEED.rows - rows[0].left, longestBatchMs: null }
    } finally {
      await shutdown()
    }
  },
}

async function measurePurges(): Promise<Record<string, Purged[]>> {
  const names = Object.keys(PURGES)
  const results: Record<string, Purged[]> = Object.fromEntries(
    names.map((name) => [name, []])
  )
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of [
      ...names.slice(round % names.length),
      ...names.slice(0, round % names.length),
    ]) {
      const url = await freshCopy()
      const measured = await PURGES[name](url)
      await checkPurged(url, name, measured.deleted)
      results[name].push(measured)
      console.log(
        `round ${round + 1} ${name}: ${Math.round(measured.ms)} ms, longest batch ${measured.longestBatchMs ?? "-"} ms`
      )
    }
  }
  return results
}

const ADMIN_LIST = {
  take: 20,
  skip: 0,
  order: { created_at: "DESC" },
  select: [
    "id",
    "workflow_id",
    "transaction_id",
    "state",
    "execution",
    "created_at",
    "updated_at",
    "deleted_at",
  ],
}

type Read = {
  name: string
  call: (service: any) => Promise<unknown>
  oursOnly?: boolean
}

function reads(transactionId: string): Read[] {
  return [
    {
      name: "admin list page (newest 20 + count)",
      call: (s) => s.listAndCountWorkflowExecutions({}, ADMIN_LIST),
    },
    {
      name: "{ workflow_id, state } (+ count)",
      call: (s) =>
        s.listAndCountWorkflowExecutions(
          { workflow_id: MEDUSA_WORKFLOW.payment, state: "failed" },
          ADMIN_LIST
        ),
    },
    {
      name: "{ transaction_id } (+ count)",
      call: (s) =>
        s.listAndCountWorkflowExecutions(
          { transaction_id: transactionId },
          ADMIN_LIST
        ),
    },
    {
      name: "{ q: part of a transaction id } (+ count)",
      call: (s) =>
        s.listAndCountWorkflowExecutions(
          { q: transactionId.slice(-7) },
          ADMIN_LIST
        ),
    },
    {
      name: "listWorkflowExecutions({ transaction_id })",
      call: (s) => s.listWorkflowExecutions({ transaction_id: transactionId }),
    },
    {
      name: "storage report",
      call: (s) => s.retrieveExecutionStorage(),
      oursOnly: true,
    },
    {
      name: "purge preview (dry run)",
      call: (s) => s.purgeExpiredExecutions({ dryRun: true }),
      oursOnly: true,
    },
  ]
}

async function measureReads(
  url: string,
  resolve: string,
  transactionId: string,
  oursOnly: boolean
): Promise<Record<string, number>> {
  const engine = await bootEngine(url, resolve)
  const results: Record<string, number> = {}
  try {
    for (const read of reads(transactionId).filter(
      (r) => oursOnly || !r.oursOnly
    )) {
      const ms: number[] = []
      for (let call = -2; call < CALLS; call++) {
        const started = performance.now()
        await read.call(engine.service)
        if (call >= 0) {
          ms.push(performance.now() - started)
        }
      }
      results[read.name] = median(ms)
    }
  } finally {
    await engine.shutdown()
  }
  return results
}

export async function run(): Promise<void> {
  await prepareTemplate()
  const purges = await measurePurges()

  const url = await freshCopy()
  const transactionId = (
    await withDb(url, (db) =>
      db.raw(`SELECT transaction_id FROM workflow_execution WHERE id = ?`, [
        `wf_exec_01KSCALE${String(Math.ceil(ROWS * 0.37)).padStart(10, "0")}`,
      ])
    )
  ).rows[0].transaction_id
  const readRounds: {
    ours: Record<string, number>
    medusa: Record<string, number>
  }[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const ours = await measureReads(url, OURS, transactionId, true)
    const theirs = await measureReads(url, MEDUSA_ENGINE, transactionId, false)
    readRounds.push({ ours, medusa: theirs })
  }

  const purgeMs = (name: string) => median(purges[name].map((p) => p.ms))
  const oneDelete = purgeMs("one raw DELETE (Medusa's condition)")
  const medusaPurge = purgeMs("Medusa's engine (clearExpiredExecutions)")
  console.log(
    `\nPurge of ${SEED.expired.toLocaleString("en")} expired among ${ROWS.toLocaleString("en")} Medusa-written rows, ` +
      `every upgrade task pending, median of ${ROUNDS} rounds (a fresh copy each)\n`
  )
  console.log(
    table(
      [
        "approach",
        "ms",
        "rows/s",
        "rows/s vs one DELETE",
        "rows/s vs Medusa's engine",
        "longest batch ms",
      ],
      Object.keys(PURGES).map((name) => {
        const ms = purgeMs(name)
        const longest = purges[name]
          .map((p) => p.longestBatchMs)
          .filter((v): v is number => v !== null)
        return [
          name,
          Math.round(ms),
          Math.round(SEED.expired / (ms / 1000)),
          `${(oneDelete / ms).toFixed(2)}x`,
          `${(medusaPurge / ms).toFixed(2)}x`,
          longest.length ? Math.round(median(longest)) : "-",
        ]
      })
    )
  )
  const pairedTwo = purges["ours, two passes at once"].map(
    (m, round) => m.ms / purges["ours, in process"][round].ms
  )
  console.log(
    `\nTwo passes at once vs one (wall time, in process): per round ${pairedTwo.map((r) => `${r.toFixed(2)}x`).join(", ")}, median ${median(pairedTwo).toFixed(2)}x`
  )

  const readMs = (engine: "ours" | "medusa", name: string) =>
    median(readRounds.map((round) => round[engine][name]))
  const medusaList = readMs("medusa", "admin list page (newest 20 + count)")
  console.log(
    `\nReads on the same table, median of ${ROUNDS} rounds of ${CALLS} calls\n`
  )
  console.log(
    table(
      ["call", "ours ms", "Medusa's engine ms", "ours / Medusa's"],
      reads(transactionId).map(({ name, oursOnly }) => {
        const ours = readMs("ours", name)
        // Medusa has no storage report or preview: held against what it does on the same table for the admin's list, and its purge.
        const theirs = !oursOnly
          ? readMs("medusa", name)
          : name === "storage report"
            ? medusaList
            : medusaPurge
        const against = !oursOnly
          ? ""
          : name === "storage report"
            ? " (its admin list page)"
            : " (its purge)"
        return [
          name,
          ours.toFixed(1),
          `${theirs.toFixed(1)}${against}`,
          `${(ours / theirs).toFixed(2)}x`,
        ]
      })
    )
  )
}
