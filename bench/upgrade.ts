/**
 * Upgrade benchmark: a store that ran Medusa's engine switches to this one.
 * A database gets Medusa's own workflow-engine migrations and BENCH_ROWS
 * Medusa-written executions (~2 KB of JSON each, mixed states, a tenth of them
 * with their retention only in the flow's options, as engines before 2.8 left
 * them); then our migrations run as `medusa db:migrate` runs them (MikroORM's
 * migrator, every pending migration of the module in one transaction), and
 * after them the module's online part (what the module finishes after start),
 * while a writer on its own connection inserts and finishes runs continuously,
 * as checkout does. Every write's latency is recorded, and a monitor notes
 * which statement of the migrator the writer waited for.
 *
 *   npm run bench -- upgrade    BENCH_ROWS (default 300,000), BENCH_ROUNDS (1)
 *
 * BENCH_MIGRATIONS, a directory of another version's migrations (main's, to
 * compare before and after in one sitting), runs those instead, without an
 * online part.
 */
import {
  MikroORM,
  defineConfig,
} from "@medusajs/framework/mikro-orm/postgresql"
import { CustomDBMigrator } from "@medusajs/framework/utils"
import path from "path"
import { Client } from "pg"
import { generateRows, loadRows } from "./scale-data"
import {
  benchDatabase,
  MEDUSA_MIGRATIONS,
  median,
  migrate,
  table,
} from "./support"

const ROWS = Number(process.env.BENCH_ROWS ?? 300_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1)
const DATABASE = "medusa_wep_bench_upgrade"
const OUR_MIGRATIONS =
  process.env.BENCH_MIGRATIONS ??
  path.join(__dirname, "../src/modules/workflow-engine/migrations")
/** How often the monitor looks at what the writer waits for. */
const MONITOR_INTERVAL_MS = 20
/** Rows of the data set whose retention lives only in the flow's options, per mille. */
const LEGACY_RETENTION_PER_MILLE = 100

/** The flow and context of a checkout run as Medusa's engine serialises them (~1.5 KB). */
const WRITER_EXECUTION = JSON.stringify({
  state: "invoking",
  modelId: "complete-cart",
  options: {
    name: "complete-cart",
    store: true,
    retentionTime: 604800,
    idempotent: false,
  },
  steps: Object.fromEntries(
    ["validate", "reserve", "authorize", "create-order", "notify"].map(
      (name) => [
        `_root.${name}`,
        {
          id: `_root.${name}`,
          depth: 1,
          invoke: { state: "invoking", status: "ok" },
          compensate: { state: "dormant", status: "idle" },
          definition: {
            action: name,
            store: true,
            retryInterval: null,
            noCompensation: false,
          },
          attempts: 1,
          failures: 0,
          startedAt: 1764000000000,
          saveResponse: true,
        },
      ]
    )
  ),
})
const WRITER_CONTEXT = JSON.stringify({
  data: {
    payload: { cart_id: "cart_01JBENCH", currency_code: "eur" },
    invoke: {},
    compensate: {},
  },
  errors: [],
})

type Write = { startedAt: number; ms: number; statement: string }

/**
 * Inserts a run and finishes it, over and over, each statement on its own
 * (autocommit, as Medusa's engine saves a checkpoint), until stopped.
 */
function startWriter(url: string) {
  const client = new Client({ connectionString: url })
  const writes: Write[] = []
  let stopped = false
  let pid = 0
  const done = (async () => {
    await client.connect()
    pid = (await client.query(`SELECT pg_backend_pid() AS pid`)).rows[0].pid
    for (let i = 0; !stopped; i++) {
      const transactionId = `bench-writer-${process.pid}-${Date.now()}-${i}`
      const key = [`complete-cart`, transactionId, `run_${i}`]
      for (const [statement, sql, values] of [
        [
          "insert",
          `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, execution, context, state, retention_time)
           VALUES ($4, $1, $2, $3, $5, $6, 'invoking', 604800)`,
          [
            ...key,
            `wf_exec_bench_${i}_${Date.now()}`,
            WRITER_EXECUTION,
            WRITER_CONTEXT,
          ],
        ],
        [
          "update",
          `UPDATE workflow_execution SET state = 'done', updated_at = now()
            WHERE workflow_id = $1 AND transaction_id = $2 AND run_id = $3`,
          key,
        ],
      ] as [string, string, unknown[]][]) {
        const startedAt = performance.now()
        await client.query(sql, values)
        writes.push({ startedAt, ms: performance.now() - startedAt, statement })
      }
    }
  })()
  return {
    writes,
    pid: () => pid,
    stop: async () => {
      stopped = true
      await done
      await client.end()
    },
  }
}

type Blocked = { at: number; query: string }

/** Notes, every few milliseconds, the statement of whichever session the writer waits for. */
function startMonitor(url: string, writerPid: () => number) {
  const client = new Client({ connectionString: url })
  const seen: Blocked[] = []
  let stopped = false
  const done = (async () => {
    await client.connect()
    while (!stopped) {
      const pid = writerPid()
      if (pid) {
        const { rows } = await client.query(
          `SELECT blocker.query
             FROM pg_stat_activity blocker
            WHERE blocker.pid = ANY (pg_blocking_pids($1))`,
          [pid]
        )
        for (const row of rows) {
          seen.push({
            at: performance.now(),
            query: String(row.query).replace(/\s+/g, " ").trim().slice(0, 120),
          })
        }
      }
      await new Promise((resolve) => setTimeout(resolve, MONITOR_INTERVAL_MS))
    }
  })()
  return {
    seen,
    stop: async () => {
      stopped = true
      await done
      await client.end()
    },
  }
}

/** Our migrations as `medusa db:migrate` runs them: the defaults Medusa leaves (transactional, all or nothing). */
async function migrateLikeMedusa(url: string): Promise<void> {
  const orm = await MikroORM.init(
    defineConfig({
      clientUrl: url,
      entities: [],
      discovery: { warnWhenNoEntities: false },
      migrations: {
        path: OUR_MIGRATIONS,
        pathTs: OUR_MIGRATIONS,
        silent: true,
        snapshot: false,
      },
      extensions: [CustomDBMigrator],
      pool: { min: 2 },
    })
  )
  try {
    await orm.getMigrator().up()
  } finally {
    await orm.close(true)
  }
}

/**
 * What the module finishes after start (index builds, back-fills), when this
 * version has such a part; the migration alone otherwise.
 */
async function finishOnline(url: string): Promise<boolean> {
  if (process.env.BENCH_MIGRATIONS) {
    return false
  }
  let online: { runOnlineUpgrade?: (url: string) => Promise<unknown> }
  try {
    online = require("../src/modules/workflow-engine/upgrade/online-upgrade")
  } catch {
    return false
  }
  if (!online.runOnlineUpgrade) {
    return false
  }
  await online.runOnlineUpgrade(url)
  return true
}

function percentile(values: number[], p: number): number {
  if (!values.length) {
    return 0
  }
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ]
}

type Phase = {
  ms: number
  writes: number
  longestMs: number
  p99Ms: number
  heldBy: string
}

/** The writes that started within [from, to) and what the longest of them waited for. */
function phase(
  writes: Write[],
  seen: Blocked[],
  from: number,
  to: number
): Phase {
  const inside = writes.filter((w) => w.startedAt >= from && w.startedAt < to)
  const longest = inside.reduce<Write | undefined>(
    (a, b) => (!a || b.ms > a.ms ? b : a),
    undefined
  )
  const during = longest
    ? seen.filter(
        (s) =>
          s.at >= longest.startedAt && s.at <= longest.startedAt + longest.ms
      )
    : []
  const heldBy =
    [...new Set(during.map((s) => s.query))].join(" / ") || "(none seen)"
  return {
    ms: to - from,
    writes: inside.length,
    longestMs: longest?.ms ?? 0,
    p99Ms: percentile(
      inside.map((w) => w.ms),
      99
    ),
    heldBy: longest
      ? `${longest.statement} waited on: ${heldBy}`
      : "(no write)",
  }
}

async function round(): Promise<{
  migration: Phase
  online: Phase | null
  idle: Phase
}> {
  const { url, db } = await benchDatabase(DATABASE, { timezone: "UTC" })
  try {
    await migrate(url, MEDUSA_MIGRATIONS)
    await generateRows(db, ROWS)
    await loadRows(db, false)
    // Engines before 2.8 kept the retention only in the flow's options.
    await db.raw(
      `UPDATE workflow_execution SET retention_time = NULL WHERE abs(hashtext(transaction_id)) % 1000 < ?`,
      [LEGACY_RETENTION_PER_MILLE]
    )
    await db.raw(`DROP TABLE bench_scale_rows`)
    // A live store's table has been vacuumed: its visibility map is set.
    await db.raw(`VACUUM ANALYZE workflow_execution`)

    const writer = startWriter(url)
    while (!writer.pid()) {
      await new Promise((resolve) => setTimeout(resolve, MONITOR_INTERVAL_MS))
    }
    const monitor = startMonitor(url, writer.pid)
    // A quiet stretch first: the writer's latency with nothing else running.
    const idleFrom = performance.now()
    while (writer.writes.length < 200) {
      await new Promise((resolve) => setTimeout(resolve, MONITOR_INTERVAL_MS))
    }
    const migrationFrom = performance.now()
    await migrateLikeMedusa(url)
    const onlineFrom = performance.now()
    const hasOnline = await finishOnline(url)
    const onlineTo = performance.now()
    await writer.stop()
    await monitor.stop()
    return {
      idle: phase(writer.writes, monitor.seen, idleFrom, migrationFrom),
      migration: phase(writer.writes, monitor.seen, migrationFrom, onlineFrom),
      online: hasOnline
        ? phase(writer.writes, monitor.seen, onlineFrom, onlineTo)
        : null,
    }
  } finally {
    await db.destroy()
  }
}

export async function run(): Promise<void> {
  const rounds: Awaited<ReturnType<typeof round>>[] = []
  for (let i = 0; i < ROUNDS; i++) {
    rounds.push(await round())
  }
  const perMillion = (ms: number) => ((ms / ROWS) * 1_000_000) / 1000
  const rows: (string | number)[][] = []
  for (const [name, pick] of [
    ["writer alone (before)", (r: (typeof rounds)[number]) => r.idle],
    [
      "medusa db:migrate (our migrations)",
      (r: (typeof rounds)[number]) => r.migration,
    ],
    ["online part after start", (r: (typeof rounds)[number]) => r.online],
  ] as [string, (r: (typeof rounds)[number]) => Phase | null][]) {
    const phases = rounds.map(pick).filter((p): p is Phase => p !== null)
    if (!phases.length) {
      continue
    }
    rows.push([
      name,
      (median(phases.map((p) => p.ms)) / 1000).toFixed(1),
      name.startsWith("writer")
        ? ""
        : perMillion(median(phases.map((p) => p.ms))).toFixed(1),
      median(phases.map((p) => p.writes)),
      median(phases.map((p) => p.longestMs)).toFixed(0),
      median(phases.map((p) => p.p99Ms)).toFixed(1),
      phases[phases.length - 1].heldBy,
    ])
  }
  console.log(
    `Upgrade of ${ROWS.toLocaleString("en")} Medusa-written rows, ${ROUNDS} round(s), medians; ` +
      `a writer inserts and finishes runs throughout\n`
  )
  console.log(
    table(
      [
        "phase",
        "s",
        "s per million rows",
        "writes",
        "writer's longest wait ms",
        "writer p99 ms",
        "longest wait held by",
      ],
      rows
    )
  )
}
