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
 * A round boots one process per engine (./engine-process.ts), engines
 * interleaved and rotated, after one unrecorded warm-up round; medians of
 * the rounds are reported.
 *
 *   npm run bench -- engines     BENCH_ROUNDS (3), BENCH_RUNS (500), BENCH_CONCURRENCY (16),
 *                                BENCH_WARMUP (300), REDIS_URL
 *
 * SQL/run counts the `query` events of the app's shared knex
 * (PG_CONNECTION), through which Medusa's engines (via their module's
 * MikroORM) and ours issue their statements; BEGIN and COMMIT count too.
 */
import { knex } from "@medusajs/framework/mikro-orm/knex"
import fs from "fs"
import path from "path"
import { EngineRound, PHASES, PhaseName, PhaseResult, RESULT_MARKER, WorkflowName, WORKFLOWS } from "./engine-process"
import { benchDatabase, exec, median, table } from "./support"

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const APP = path.join(__dirname, "app")
const REPO = path.join(__dirname, "..")
const MEDUSA_CLI = require.resolve("@medusajs/cli/cli.js")
const TS_NODE = require.resolve("ts-node/register/transpile-only")

const ENGINES = ["ours", "inmemory", ...(process.env.REDIS_URL ? ["redis"] : [])]

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
  await db.destroy()
  await exec(process.execPath, [MEDUSA_CLI, "db:migrate"], { cwd: APP, env: { BENCH_ENGINE: engine, DATABASE_URL: url } })
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

async function runRound(engine: string, url: string, env: NodeJS.ProcessEnv = {}): Promise<EngineRound> {
  await settle(url)
  const output = await exec(
    process.execPath,
    ["--expose-gc", "-r", TS_NODE, path.join(__dirname, "engine-process.ts")],
    // Medusa resolves the modules of medusa-config from the working directory, as `medusa start` does.
    { cwd: APP, env: { BENCH_ENGINE: engine, DATABASE_URL: url, LOG_LEVEL: "error", ...env } }
  )
  const line = output.split("\n").find((l) => l.startsWith(RESULT_MARKER))
  if (!line) {
    throw new Error(`The ${engine} process printed no result:\n${output.slice(-8000)}`)
  }
  return JSON.parse(line.slice(RESULT_MARKER.length))
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
    console.log(`${engine}: database ${new URL(urls[engine]).pathname.slice(1)} migrated (medusa db:migrate)`)
  }

  /*
   * The first process to run after the migrations measured up to twice as
   * slow as the same engine in later rounds (the server still settling), so
   * every engine runs one short round that is not recorded.
   */
  for (const engine of ENGINES) {
    await runRound(engine, urls[engine], { BENCH_RUNS: "100", BENCH_WARMUP: "100" })
  }
  console.log("warm-up round done (not recorded)")

  const rounds: Record<string, EngineRound[]> = Object.fromEntries(ENGINES.map((engine) => [engine, []]))
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...ENGINES.slice(round % ENGINES.length), ...ENGINES.slice(0, round % ENGINES.length)]
    for (const engine of order) {
      const result = await runRound(engine, urls[engine])
      rounds[engine].push(result)
      const stored = result.phases.stored
      console.log(
        `round ${round + 1} ${engine}: stored ${Math.round(stored.sequential.runsPerSecond)} runs/s sequential, ` +
          `${Math.round(stored.concurrent.runsPerSecond)} concurrent; peak RSS ${Math.round(result.peakRssKb / 1024)} MB`
      )
    }
  }

  /** The median over rounds of one engine's metric. */
  const m = (engine: string, workflow: WorkflowName, phase: PhaseName, metric: keyof PhaseResult) =>
    median(rounds[engine].map((r) => r.phases[workflow][phase][metric]))
  const peakRssMb = (engine: string) => median(rounds[engine].map((r) => r.peakRssKb)) / 1024
  const others = ENGINES.filter((engine) => engine !== "ours")

  console.log(
    `\nEngines, ${process.env.BENCH_RUNS ?? 500} runs per phase (concurrent: ${process.env.BENCH_CONCURRENCY ?? 16} in flight), ` +
      `median of ${ROUNDS} rounds\n`
  )
  console.log(
    table(
      [
        "workflow",
        "phase",
        ...ENGINES.flatMap((e) => [`${e} runs/s`, `${e} p50 ms`, `${e} p95 ms`, `${e} CPU ms/run`, `${e} SQL/run`, `${e} WAL kB/run`]),
        ...others.map((e) => `ours/${e} runs/s`),
      ],
      WORKFLOWS.flatMap((workflow) =>
        PHASES.map((phase) => [
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
            (e) => `${fixed(m("ours", workflow, phase, "runsPerSecond") / m(e, workflow, phase, "runsPerSecond"), 2)}x`
          ),
        ])
      )
    )
  )
  console.log("")
  for (const engine of ENGINES) {
    console.log(`${engine}: peak RSS ${fixed(peakRssMb(engine), 0)} MB (median of the processes' maxRSS)`)
  }

  /*
   * What storing adds to a run, against the floor: the same rows written by
   * two bare commits through the same pool. The floor on the in-memory
   * engine's database is Medusa's table as it stands (its indexes, no
   * triggers); on ours, our table (our indexes, the counters' trigger).
   */
  console.log("\nWhat storing adds (stored p50 - plain p50) against the floor (INSERT + UPDATE of the same row, p50)\n")
  console.log(
    table(
      ["phase", ...ENGINES.flatMap((e) => [`${e} adds ms`, `floor on ${e}'s table ms`]), "ours adds / floor (Medusa's table)"],
      PHASES.map((phase) => [
        phase,
        ...ENGINES.flatMap((e) => [
          fixed(m(e, "stored", phase, "p50Ms") - m(e, "plain", phase, "p50Ms"), 2),
          fixed(m(e, "floor", phase, "p50Ms"), 2),
        ]),
        `${fixed((m("ours", "stored", phase, "p50Ms") - m("ours", "plain", phase, "p50Ms")) / m("inmemory", "floor", phase, "p50Ms"), 2)}x`,
      ])
    )
  )

  const goals: [string, boolean, string][] = []
  for (const phase of PHASES) {
    const stored = m("ours", "stored", phase, "p50Ms")
    const plain = m("ours", "plain", phase, "p50Ms")
    goals.push([`ours stored p50 <= 2x plain p50 (${phase})`, stored <= 2 * plain, `${fixed(stored, 2)} vs ${fixed(plain, 2)} ms`])
  }
  for (const phase of PHASES) {
    const ours = m("ours", "stored", phase, "runsPerSecond")
    const inmemory = m("inmemory", "stored", phase, "runsPerSecond")
    goals.push([
      `ours stored runs/s >= 3x inmemory's (${phase})`,
      ours >= 3 * inmemory,
      `${Math.round(ours)} vs ${Math.round(inmemory)} runs/s (${fixed(ours / inmemory, 2)}x)`,
    ])
  }
  for (const phase of PHASES) {
    const adds = m("ours", "stored", phase, "p50Ms") - m("ours", "plain", phase, "p50Ms")
    const floor = m("inmemory", "floor", phase, "p50Ms")
    goals.push([`what storing adds <= 1.5x the floor (${phase})`, adds <= 1.5 * floor, `${fixed(adds, 2)} vs ${fixed(floor, 2)} ms`])
  }
  for (const phase of PHASES) {
    const sql = m("ours", "stored", phase, "sqlPerRun")
    goals.push([`ours SQL per stored 3-step run <= 3 (${phase})`, sql <= 3, fixed(sql, 2)])
  }
  for (const phase of PHASES) {
    const sql = m("ours", "plain", phase, "sqlPerRun")
    goals.push([`ours SQL per plain run = 0 (${phase})`, sql === 0, fixed(sql, 2)])
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
