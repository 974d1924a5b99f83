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
 * Two set-ups, both real stores, each with databases of its own:
 *   - a new store: `workflow_execution` emptied before every round;
 *   - a busy store: the table starts with BENCH_TABLE_ROWS executions a
 *     store would have kept (every index entry a run adds goes into a large
 *     index), and keeps what the rounds add.
 * A round boots one process per engine and set-up (./engine-process.ts),
 * set-ups and engines interleaved and rotated (ours/Medusa's, then
 * Medusa's/ours), after one unrecorded warm-up round; medians of the rounds
 * are reported per set-up. Then each engine runs as two app processes on its
 * one database at once, 16 in flight each (BENCH_CLUSTER_ROUNDS rounds).
 *
 *   npm run bench -- engines     BENCH_ROUNDS (3), BENCH_CLUSTER_ROUNDS (2), BENCH_RUNS (500),
 *                                BENCH_CONCURRENT_RUNS (1000), BENCH_WARMUP (300),
 *                                BENCH_TABLE_ROWS (200000), BENCH_SETUPS (new,busy), REDIS_URL
 *
 * The rounds' raw results are written to RESULTS_FILE before the report;
 * BENCH_REPORT_ONLY=1 prints the report of that file again without running.
 *
 * SQL/run counts the statements the app's pool sends, at the driver (see
 * countStatements in ./engine-process.ts); BEGIN and COMMIT count too.
 */
import { knex } from "@medusajs/framework/mikro-orm/knex"
import fs from "fs"
import os from "os"
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

type Setup = {
  key: "new" | "busy"
  /** What the report calls it. */
  title: string
  /** Rows in each table before the first round. */
  rows: number
  /** Whether every round starts from an empty workflow_execution. */
  emptied: boolean
}

const SETUPS: Setup[] = (
  [
    {
      key: "new",
      title: "new store (workflow_execution empty at each round's start)",
      rows: 0,
      emptied: true,
    },
    {
      key: "busy",
      title: `busy store (tables starting at ${TABLE_ROWS} rows)`,
      rows: TABLE_ROWS,
      emptied: false,
    },
  ] as Setup[]
).filter((setup) =>
  (process.env.BENCH_SETUPS ?? "new,busy").split(",").includes(setup.key)
)

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

const databaseName = (engine: string, setup: Setup) =>
  `medusa_wep_bench_engines_${engine}_${setup.key}`

async function prepareDatabase(engine: string, setup: Setup): Promise<string> {
  const { url, db } = await benchDatabase(databaseName(engine, setup))
  try {
    await exec(process.execPath, [MEDUSA_CLI, "db:migrate"], {
      cwd: APP,
      env: { BENCH_ENGINE: engine, DATABASE_URL: url },
    })
    if (setup.rows > 0) {
      // The same rows in every engine's table; ours also gets their expiry, as its migrations would give them.
      await generateRows(db, setup.rows)
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
 * pays for another's writes. A new store's table is emptied first (TRUNCATE:
 * ours resets its counters with it, through its truncate trigger).
 */
async function settle(url: string, emptied: boolean): Promise<void> {
  const db = knex({ client: "pg", connection: url })
  try {
    if (emptied) {
      await db.raw(`TRUNCATE "workflow_execution"`)
    }
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
  settleFirst?: Setup
): Promise<EngineRound> {
  if (settleFirst) {
    await settle(url, settleFirst.emptied)
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
async function runCluster(
  engine: string,
  url: string,
  setup: Setup
): Promise<EngineRound[]> {
  await settle(url, setup.emptied)
  const db = knex({ client: "pg", connection: url, pool: { min: 2, max: 2 } })
  const trx = await db.transaction()
  try {
    await trx.raw(`SELECT pg_advisory_lock(?::bigint)`, [CLUSTER_BARRIER])
    const env = {
      BENCH_WORKFLOWS: "stored",
      BENCH_PHASES: "16 in flight",
      BENCH_BARRIER: String(CLUSTER_BARRIER),
    }
    const processes = [runRound(engine, url, env), runRound(engine, url, env)]
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

const others = ENGINES.filter((engine) => engine !== "ours")
const rotated = <T>(list: T[], round: number): T[] => [
  ...list.slice(round % list.length),
  ...list.slice(0, round % list.length),
]

const RESULTS_FILE = path.join(os.tmpdir(), "medusa-wep-bench-engines.json")

type Results = {
  rounds: Record<string, Record<string, EngineRound[]>>
  clusters: Record<string, Record<string, number[]>>
}

export async function run(): Promise<void> {
  if (process.env.BENCH_REPORT_ONLY) {
    printReport(JSON.parse(fs.readFileSync(RESULTS_FILE, "utf8")))
    return
  }
  const started = performance.now()
  await exec("npm", ["run", "build"], { cwd: REPO })
  console.log("built the plugin into .medusa/server (npm run build)")
  linkPlugin()

  const urls: Record<string, Record<string, string>> = {}
  for (const setup of SETUPS) {
    urls[setup.key] = {}
    for (const engine of ENGINES) {
      urls[setup.key][engine] = await prepareDatabase(engine, setup)
      console.log(
        `${setup.key} store, ${engine}: database ${databaseName(engine, setup)} migrated (medusa db:migrate)` +
          (setup.rows ? `, ${setup.rows} rows loaded` : "")
      )
    }
  }

  /*
   * The first process to run after the migrations measured up to twice as
   * slow as the same engine in later rounds (the server still settling), so
   * every engine runs one short round that is not recorded.
   */
  for (const setup of SETUPS) {
    for (const engine of ENGINES) {
      await runRound(
        engine,
        urls[setup.key][engine],
        { BENCH_RUNS: "100", BENCH_WARMUP: "100" },
        setup
      )
    }
  }
  console.log("warm-up round done (not recorded)")

  const rounds: Record<string, Record<string, EngineRound[]>> = {}
  const clusters: Record<string, Record<string, number[]>> = {}
  for (const setup of SETUPS) {
    rounds[setup.key] = Object.fromEntries(ENGINES.map((e) => [e, []]))
    clusters[setup.key] = Object.fromEntries(ENGINES.map((e) => [e, []]))
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const setup of rotated(SETUPS, round)) {
      for (const engine of rotated(ENGINES, round)) {
        const result = await runRound(
          engine,
          urls[setup.key][engine],
          {},
          setup
        )
        rounds[setup.key][engine].push(result)
        const stored = result.phases.stored
        console.log(
          `round ${round + 1}, ${setup.key} store, ${engine}: stored ${PHASES.map((p) => `${Math.round(stored[p]!.runsPerSecond)} runs/s ${p}`).join(", ")}; ` +
            `peak RSS ${Math.round(result.peakRssKb / 1024)} MB`
        )
      }
    }
  }

  // Two apps per engine on one database, set-ups and engines interleaved and rotated as above.
  for (let round = 0; round < CLUSTER_ROUNDS; round++) {
    for (const setup of rotated(SETUPS, round)) {
      for (const engine of rotated(ENGINES, round)) {
        const apps = await runCluster(engine, urls[setup.key][engine], setup)
        const runsPerSecond = apps.reduce(
          (sum, app) => sum + app.phases.stored["16 in flight"]!.runsPerSecond,
          0
        )
        clusters[setup.key][engine].push(runsPerSecond)
        console.log(
          `cluster round ${round + 1}, ${setup.key} store, ${engine}: two apps, stored at 16 in flight each, ${Math.round(runsPerSecond)} runs/s together`
        )
      }
    }
  }

  fs.writeFileSync(RESULTS_FILE, JSON.stringify({ rounds, clusters }))
  console.log(`raw results written to ${RESULTS_FILE}`)
  printReport({ rounds, clusters })
  console.log(
    `\nDatabases ${SETUPS.flatMap((setup) => ENGINES.map((e) => databaseName(e, setup))).join(", ")} are left for inspection; ` +
      `the next run recreates them. Took ${Math.round((performance.now() - started) / 1000)} s.`
  )
}

function printReport({ rounds, clusters }: Results): void {
  const goals: [string, boolean, string][] = []
  for (const setup of SETUPS.filter((s) => rounds[s.key])) {
    goals.push(
      ...report(setup, rounds[setup.key], clusters[setup.key]).map(
        ([goal, met, numbers]): [string, boolean, string] => [
          `${setup.key} store: ${goal}`,
          met,
          numbers,
        ]
      )
    )
  }
  console.log("\nGoals\n")
  for (const [goal, met, numbers] of goals) {
    console.log(`- ${met ? "met" : "MISSED"}: ${goal}: ${numbers}`)
  }
}

/** Prints one set-up's tables; returns its goals. */
function report(
  setup: Setup,
  rounds: Record<string, EngineRound[]>,
  clusters: Record<string, number[]>
): [string, boolean, string][] {
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

  console.log(
    `\n## ${setup.title}\n\nEngines, ${process.env.BENCH_RUNS ?? 500} runs sequentially, ${process.env.BENCH_CONCURRENT_RUNS ?? 1000} in flight, ` +
      `median of ${ROUNDS} rounds\n`
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

  /*
   * What concurrency buys a stored run, against the same two commits
   * through the app's pool (floor) and through one bare connection per run
   * in flight (bare floor), and how busy the app's own event loop was.
   */
  const concurrencyRows: [string, string, WorkflowName][] = [
    ...ENGINES.map((e): [string, string, WorkflowName] => [
      `${e} stored`,
      e,
      "stored",
    ]),
    ...ENGINES.map((e): [string, string, WorkflowName] => [
      `floor on ${e}'s table, app's pool`,
      e,
      "floor",
    ]),
    ...ENGINES.map((e): [string, string, WorkflowName] => [
      `bare floor on ${e}'s table, 16 connections`,
      e,
      "bare floor",
    ]),
  ]
  const speedUp = (e: string, workflow: WorkflowName) =>
    m(e, workflow, "16 in flight", "runsPerSecond") /
    m(e, workflow, "sequential", "runsPerSecond")
  console.log(
    "\nConcurrency: runs/s sequentially and at 16 in flight; the app's event loop busy share and CPU per second at 16 in flight\n"
  )
  console.log(
    table(
      [
        "what",
        "sequential runs/s",
        "16 in flight runs/s",
        "16 in flight / sequential",
        "event loop busy at 16",
        "app CPU s/s at 16",
      ],
      concurrencyRows.map(([label, e, workflow]) => [
        label,
        Math.round(m(e, workflow, "sequential", "runsPerSecond")),
        Math.round(m(e, workflow, "16 in flight", "runsPerSecond")),
        `${fixed(speedUp(e, workflow), 2)}x`,
        fixed(m(e, workflow, "16 in flight", "eventLoopBusy"), 2),
        fixed(m(e, workflow, "16 in flight", "cpuShare"), 2),
      ])
    )
  )

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
  const oursSpeedUp = speedUp("ours", "stored")
  goals.push([
    "ours stored runs/s at 16 in flight >= 2x ours sequentially",
    oursSpeedUp >= 2,
    `${Math.round(m("ours", "stored", "16 in flight", "runsPerSecond"))} vs ${Math.round(m("ours", "stored", "sequential", "runsPerSecond"))} runs/s (${fixed(oursSpeedUp, 2)}x; ` +
      `bare floor on our table ${fixed(speedUp("ours", "bare floor"), 2)}x, ${Math.round(m("ours", "bare floor", "16 in flight", "runsPerSecond"))} runs/s at 16 in flight)`,
  ])
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
  return goals
}
