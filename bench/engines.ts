/**
 * Engines benchmark: the same workflows (3 stored steps, started with and
 * without a caller's transaction id; the same not stored; compensate; async)
 * run through Modules.WORKFLOW_ENGINE of a booted Medusa app (./app),
 * whose engine is
 *   - ours (this plugin, installed as the README says, built by `npm run build`),
 *   - Medusa's in-memory engine (the default),
 *   - Medusa's Redis engine, when REDIS_URL is set,
 * each on a fresh database of its own, migrated once by `medusa db:migrate`
 * and vacuumed and checkpointed before each round.
 * Each table starts with BENCH_TABLE_ROWS executions a store would have
 * kept (the harder case: a store's table is never empty, and every index
 * entry a run adds goes into a large index).
 * A round boots one process per engine (./engine-process.ts), engines
 * interleaved and rotated, after one unrecorded warm-up round; medians of
 * the rounds are reported. Then each engine runs as two app processes on
 * its one database at once, 16 in flight each (BENCH_CLUSTER_ROUNDS rounds).
 *
 *   npm run bench -- engines     BENCH_ROUNDS (3), BENCH_CLUSTER_ROUNDS (2), BENCH_RUNS (500),
 *                                BENCH_CONCURRENT_RUNS (1000), BENCH_WARMUP (300),
 *                                BENCH_TABLE_ROWS (200000), REDIS_URL
 *
 * SQL/run counts the statements the app's pool sends, at the driver (see
 * countStatements in ./engine-process.ts); BEGIN and COMMIT count too.
 */
import { knex } from "@medusajs/framework/mikro-orm/knex"
import fs from "fs"
import path from "path"
import {
  EngineRound,
  PHASES,
  PhaseName,
  PhaseResult,
  RESULT_MARKER,
  WorkflowName,
  WORKFLOWS,
} from "./engine-process"
import { generateRows, loadRows } from "./scale-data"
import { benchDatabase, exec, median, table } from "./support"

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CLUSTER_ROUNDS = Number(process.env.BENCH_CLUSTER_ROUNDS ?? 2)
const TABLE_ROWS = Number(process.env.BENCH_TABLE_ROWS ?? 200_000)
const APP = path.join(__dirname, "app")
const REPO = path.join(__dirname, "..")
const MEDUSA_CLI = require.resolve("@medusajs/cli/cli.js")
const TS_NODE = require.resolve("ts-node/register/transpile-only")

const ENGINES = [
  "ours",
  "inmemory",
  ...(process.env.REDIS_URL ? ["redis"] : []),
]

/**
 * A store installs the plugin into its node_modules; for the app here that is
 * this repository, linked as `npm install file:../..` would link it.
 */
function linkPlugin(): void {
  const link = path.join(APP, "node_modules", "medusa-workflow-engine-postgres")
  const target = path.relative(path.dirname(link), REPO)
  if (fs.existsSync(link) && fs.realpathSync(link) === fs.realpathSync(REPO)) {
    return
  }
  fs.mkdirSync(path.dirname(link), { recursive: true })
  fs.rmSync(link, { force: true })
  fs.symlinkSync(target, link, "dir")
}

async function prepareDatabase(engine: string): Promise<string> {
  const { url, db } = await benchDatabase(`medusa_wep_bench_engines_${engine}`)
  try {
    await exec(process.execPath, [MEDUSA_CLI, "db:migrate"], {
      cwd: APP,
      env: { BENCH_ENGINE: engine, DATABASE_URL: url },
    })
    if (TABLE_ROWS > 0) {
      // The same rows in every engine's table; ours also gets their expiry, as its migrations would give them.
      await generateRows(db, TABLE_ROWS)
      await loadRows(db, engine === "ours")
      await db.raw(`DROP TABLE bench_scale_rows`)
    }
  } finally {
    await db.destroy()
  }
  return url
}

/*
 * Every engine starts a round on a settled server: VACUUM does what
 * autovacuum would (this machine's CI server has it off), and CHECKPOINT
 * flushes what the migrations or the previous round left dirty, so no round
 * pays for another's writes.
 */
async function settle(url: string): Promise<void> {
  const db = knex({ client: "pg", connection: url })
  try {
    await db.raw(`VACUUM ANALYZE`)
    await db.raw(`CHECKPOINT`).catch((error) => {
      // Needs superuser or pg_checkpoint; without it rounds are only noisier.
      if (error.code !== "42501") {
        throw error
      }
    })
  } finally {
    await db.destroy()
  }
}

async function runRound(
  engine: string,
  url: string,
  env: NodeJS.ProcessEnv = {},
  settleFirst = true
): Promise<EngineRound> {
  if (settleFirst) {
    await settle(url)
  }
  const output = await exec(
    process.execPath,
    ["--expose-gc", "-r", TS_NODE, path.join(__dirname, "engine-process.ts")],
    // Medusa resolves the modules of medusa-config from the working directory, as `medusa start` does.
    {
      cwd: APP,
      env: {
        BENCH_ENGINE: engine,
        DATABASE_URL: url,
        LOG_LEVEL: "error",
        ...env,
      },
    }
  )
  const line = output.split("\n").find((l) => l.startsWith(RESULT_MARKER))
  if (!line) {
    throw new Error(
      `The ${engine} process printed no result:\n${output.slice(-8000)}`
    )
  }
  return JSON.parse(line.slice(RESULT_MARKER.length))
}

const CLUSTER_BARRIER = 7_310_001

/**
 * Two app processes of one engine on its one database, stored runs at 16 in
 * flight each, their measured phases started together (see `barrier` in
 * ./engine-process.ts). Returns both processes' rounds.
 */
async function runCluster(engine: string, url: string): Promise<EngineRound[]> {
  await settle(url)
  const db = knex({ client: "pg", connection: url, pool: { min: 2, max: 2 } })
  const trx = await db.transaction()
  try {
    await trx.raw(`SELECT pg_advisory_lock(?::bigint)`, [CLUSTER_BARRIER])
    const env = {
      BENCH_WORKFLOWS: "stored",
      BENCH_PHASES: "16 in flight",
      BENCH_BARRIER: String(CLUSTER_BARRIER),
    }
    const processes = [
      runRound(engine, url, env, false),
      runRound(engine, url, env, false),
    ]
    processes.forEach((p) => p.catch(() => {}))
    // Both wait on the lock once warmed up: then they start together.
    for (;;) {
      const { rows } = await db.raw(
        `SELECT count(*)::int AS waiting FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = ?`,
        [CLUSTER_BARRIER]
      )
      if (rows[0].waiting >= processes.length) {
        break
      }
      await Promise.race([
        new Promise((resolve) => setTimeout(resolve, 200)),
        ...processes,
      ])
    }
    await trx.raw(`SELECT pg_advisory_unlock(?::bigint)`, [CLUSTER_BARRIER])
    return await Promise.all(processes)
  } finally {
    await trx.rollback().catch(() => {})
    await db.destroy()
  }
}

const fixed = (value: number, digits: number) => value.toFixed(digits)

export async function run(): Promise<void> {
  const started = performance.now()
  await exec("npm", ["run", "build"], { cwd: REPO })
  console.log("built the plugin into .medusa/server (npm run build)")
  linkPlugin()

  const urls: Record<string, string> = {}
  for (const engine of ENGINES) {
    urls[engine] = await prepareDatabase(engine)
    console.log(
      `${engine}: database ${new URL(urls[engine]).pathname.slice(1)} migrated (medusa db:migrate)`
    )
  }

  /*
   * The first process to run after the migrations measured up to twice as
   * slow as the same engine in later rounds (the server still settling), so
   * every engine runs one short round that is not recorded.
   */
  for (const engine of ENGINES) {
    await runRound(engine, urls[engine], {
      BENCH_RUNS: "100",
      BENCH_WARMUP: "100",
    })
  }
  console.log("warm-up round done (not recorded)")

  const rounds: Record<string, EngineRound[]> = Object.fromEntries(
    ENGINES.map((engine) => [engine, []])
  )
  for (let round = 0; round < ROUNDS; round++) {
    const order = [
      ...ENGINES.slice(round % ENGINES.length),
      ...ENGINES.slice(0, round % ENGINES.length),
    ]
    for (const engine of order) {
      const result = await runRound(engine, urls[engine])
      rounds[engine].push(result)
      const stored = result.phases.stored
      console.log(
        `round ${round + 1} ${engine}: stored ${PHASES.map((p) => `${Math.round(stored[p]!.runsPerSecond)} runs/s ${p}`).join(", ")}; ` +
          `peak RSS ${Math.round(result.peakRssKb / 1024)} MB`
      )
    }
  }

  // Two apps per engine on one database, the engines interleaved and rotated as above.
  const clusters: Record<string, number[]> = Object.fromEntries(
    ENGINES.map((engine) => [engine, []])
  )
  for (let round = 0; round < CLUSTER_ROUNDS; round++) {
    const order = [
      ...ENGINES.slice(round % ENGINES.length),
      ...ENGINES.slice(0, round % ENGINES.length),
    ]
    for (const engine of order) {
      const apps = await runCluster(engine, urls[engine])
      const runsPerSecond = apps.reduce(
        (sum, app) => sum + app.phases.stored["16 in flight"]!.runsPerSecond,
        0
      )
      clusters[engine].push(runsPerSecond)
      console.log(
        `cluster round ${round + 1} ${engine}: two apps, stored at 16 in flight each, ${Math.round(runsPerSecond)} runs/s together`
      )
    }
  }

  /** The median over rounds of one engine's metric; NaN where the phase was not run. */
  const m = (
    engine: string,
    workflow: WorkflowName,
    phase: PhaseName,
    metric: keyof PhaseResult
  ) =>
    median(
      rounds[engine].map((r) => r.phases[workflow][phase]?.[metric] ?? NaN)
    )
  const ran = (workflow: WorkflowName, phase: PhaseName) =>
    rounds.ours[0].phases[workflow][phase] !== undefined
  const peakRssMb = (engine: string) =>
    median(rounds[engine].map((r) => r.peakRssKb)) / 1024
  const others = ENGINES.filter((engine) => engine !== "ours")

  console.log(
    `\nEngines, ${process.env.BENCH_RUNS ?? 500} runs sequentially, ${process.env.BENCH_CONCURRENT_RUNS ?? 1000} in flight, ` +
      `tables starting at ${TABLE_ROWS} rows, median of ${ROUNDS} rounds\n`
  )
  console.log(
    table(
      [
        "workflow",
        "phase",
        ...ENGINES.flatMap((e) => [
          `${e} runs/s`,
          `${e} p50 ms`,
          `${e} p95 ms`,
          `${e} CPU ms/run`,
          `${e} SQL/run`,
          `${e} WAL kB/run`,
        ]),
        ...others.map((e) => `ours/${e} runs/s`),
      ],
      WORKFLOWS.flatMap((workflow) =>
        PHASES.filter((phase) => ran(workflow, phase)).map((phase) => [
          workflow,
          phase,
          ...ENGINES.flatMap((e) => [
            Math.round(m(e, workflow, phase, "runsPerSecond")),
            fixed(m(e, workflow, phase, "p50Ms"), 1),
            fixed(m(e, workflow, phase, "p95Ms"), 1),
            fixed(m(e, workflow, phase, "cpuMsPerRun"), 2),
            fixed(m(e, workflow, phase, "sqlPerRun"), 1),
            fixed(m(e, workflow, phase, "walBytesPerRun") / 1024, 1),
          ]),
          ...others.map(
            (e) =>
              `${fixed(m("ours", workflow, phase, "runsPerSecond") / m(e, workflow, phase, "runsPerSecond"), 2)}x`
          ),
        ])
      )
    )
  )
  console.log("")
  for (const engine of ENGINES) {
    console.log(
      `${engine}: peak RSS ${fixed(peakRssMb(engine), 0)} MB (median of the processes' maxRSS)`
    )
  }

  // BENCH_CLUSTER_ROUNDS=0 skips the two-app rounds: no table and no goal for them then.
  if (CLUSTER_ROUNDS > 0) {
    console.log(
      `\nTwo app processes on one database, stored runs at 16 in flight each, median of ${CLUSTER_ROUNDS} rounds\n`
    )
    console.log(
      table(
        [
          "engine",
          "runs/s together",
          "one app at 16 in flight runs/s",
          ...others.map((e) => `ours/${e}`),
        ],
        ENGINES.map((engine) => [
          engine,
          Math.round(median(clusters[engine])),
          Math.round(m(engine, "stored", "16 in flight", "runsPerSecond")),
          ...others.map((e) =>
            engine === "ours"
              ? `${fixed(median(clusters.ours) / median(clusters[e]), 2)}x`
              : ""
          ),
        ])
      )
    )
  }

  /*
   * What storing adds to a run, against the floor: the same rows written by
   * two bare commits through the same pool. The floor on the in-memory
   * engine's database is Medusa's table as it stands (its indexes, no
   * triggers); on ours, our table (our indexes, the counters' trigger).
   */
  const adds = (engine: string, phase: PhaseName) =>
    m(engine, "stored", phase, "p50Ms") - m(engine, "plain", phase, "p50Ms")
  console.log(
    "\nWhat storing adds (stored p50 - plain p50) against the floor (INSERT + UPDATE of the same row, p50)\n"
  )
  console.log(
    table(
      [
        "phase",
        ...ENGINES.flatMap((e) => [`${e} adds ms`, `floor on ${e}'s table ms`]),
        "ours adds / floor (Medusa's table)",
      ],
      PHASES.map((phase) => [
        phase,
        ...ENGINES.flatMap((e) => [
          fixed(adds(e, phase), 2),
          fixed(m(e, "floor", phase, "p50Ms"), 2),
        ]),
        `${fixed(adds("ours", phase) / m("inmemory", "floor", phase, "p50Ms"), 2)}x`,
      ])
    )
  )

  // Counted at the driver, the SQL per run includes the instance's own background statements
  // (lease renewals, timer polls: under one a second), spread over the runs; a tenth is within them.
  const sqlWithin = (sql: number, limit: number) =>
    Math.round(sql * 10) / 10 <= limit
  const goals: [string, boolean, string][] = []
  for (const phase of PHASES) {
    const ours = m("ours", "stored", phase, "runsPerSecond")
    const inmemory = m("inmemory", "stored", phase, "runsPerSecond")
    goals.push([
      `ours stored runs/s >= 3x inmemory's (${phase})`,
      ours >= 3 * inmemory,
      `${Math.round(ours)} vs ${Math.round(inmemory)} runs/s (${fixed(ours / inmemory, 2)}x)`,
    ])
  }
  if (CLUSTER_ROUNDS > 0) {
    goals.push([
      "ours stored runs/s >= 3x inmemory's (two apps on one database)",
      median(clusters.ours) >= 3 * median(clusters.inmemory),
      `${Math.round(median(clusters.ours))} vs ${Math.round(median(clusters.inmemory))} runs/s`,
    ])
  }
  for (const phase of PHASES) {
    const floor = m("inmemory", "floor", phase, "p50Ms")
    goals.push([
      `what storing adds <= 1.5x the floor (${phase})`,
      adds("ours", phase) <= 1.5 * floor,
      `${fixed(adds("ours", phase), 2)} vs ${fixed(floor, 2)} ms (${fixed(adds("ours", phase) / floor, 2)}x)`,
    ])
  }
  for (const phase of PHASES) {
    const sql = m("ours", "stored", phase, "sqlPerRun")
    goals.push([
      `ours SQL per stored 3-step run <= 2 (${phase})`,
      sqlWithin(sql, 2),
      fixed(sql, 2),
    ])
  }
  for (const phase of ["sequential", "16 in flight"] as const) {
    const sql = m("ours", "stored, caller's id", phase, "sqlPerRun")
    goals.push([
      `ours SQL per stored run with the caller's id <= 3 (${phase})`,
      sqlWithin(sql, 3),
      fixed(sql, 2),
    ])
  }
  for (const phase of PHASES) {
    const stored = m("ours", "stored", phase, "p50Ms")
    const plain = m("ours", "plain", phase, "p50Ms")
    goals.push([
      `ours stored p50 <= 2x plain p50 (${phase}, issue #4)`,
      stored <= 2 * plain,
      `${fixed(stored, 2)} vs ${fixed(plain, 2)} ms`,
    ])
  }
  for (const phase of PHASES) {
    const sql = m("ours", "plain", phase, "sqlPerRun")
    goals.push([
      `ours SQL per plain run = 0 (${phase})`,
      sqlWithin(sql, 0),
      fixed(sql, 2),
    ])
  }
  goals.push([
    "ours peak RSS <= inmemory's",
    peakRssMb("ours") <= peakRssMb("inmemory"),
    `${fixed(peakRssMb("ours"), 0)} vs ${fixed(peakRssMb("inmemory"), 0)} MB`,
  ])

  console.log("\nGoals\n")
  for (const [goal, met, numbers] of goals) {
    console.log(`- ${met ? "met" : "MISSED"}: ${goal}: ${numbers}`)
  }
  console.log(
    `\nDatabases ${ENGINES.map((e) => `medusa_wep_bench_engines_${e}`).join(", ")} are left for inspection; ` +
      `the next run recreates them. Took ${Math.round((performance.now() - started) / 1000)} s.`
  )
}
