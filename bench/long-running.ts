/**
 * Long-running benchmark: a stored workflow that waits twice for an answer
 * from outside (async steps answered by setStepSuccess, as a payment or
 * shipping webhook would), has a step that fails once and is retried after
 * `retryInterval: 1`, and a timeout on the second wait that does not fire; run
 * sequentially and at 16 in flight through
 *   - this engine (timers and checkpoints in Postgres),
 *   - Medusa's in-memory engine (timers are setTimeouts, stored runs in Postgres),
 *   - Medusa's Redis engine (timers are BullMQ jobs, checkpoints in Redis and
 *     stored runs in Postgres), on its own Redis database (BENCH_REDIS_DB),
 *     flushed before each of its rounds,
 * each in a process of its own (./long-running-process.ts) on its own
 * database of one server, rounds interleaved and rotated; medians of the
 * rounds are reported. WAL is read around each phase, server-wide: the
 * engines' processes never overlap, but anything else writing to the server
 * meanwhile is counted too.
 *
 *   npm run bench -- long-running   BENCH_ROUNDS (3), BENCH_RUNS (10 sequential),
 *                                   BENCH_CONCURRENT_RUNS (160 at 16 in flight),
 *                                   REDIS_URL (redis://127.0.0.1:6379), BENCH_REDIS_DB (13)
 */
import path from "path"
import {
  LONG_RUNNING_ENGINES,
  LongRunningRound,
  PhaseName,
  PHASES,
  PhaseResult,
  RESULT_MARKER,
} from "./long-running-process"
import {
  benchDatabase,
  exec,
  median,
  MEDUSA_MIGRATIONS,
  migrate,
  migrateOurs,
  percentile,
  table,
} from "./support"

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const TS_NODE = require.resolve("ts-node/register/transpile-only")
const ENGINES = Object.keys(LONG_RUNNING_ENGINES)
const REDIS_DB = Number(process.env.BENCH_REDIS_DB ?? 13)
const REDIS_URL = `${(process.env.REDIS_URL ?? "redis://127.0.0.1:6379").replace(/\/\d*$/, "")}/${REDIS_DB}`

/**
 * The durable state changes of one run: each is a point after which a crash
 * must not lose what happened (the run waits on something outside the
 * process: an answer, the clock, or nothing more).
 */
const DURABLE_CHANGES = [
  "started, waits for the payment (run() returns: the caller was told it waits)",
  "payment answered; the call failed, its retry due in 1 s (setStepSuccess returns: the answer is kept)",
  "retried, succeeded; waits for the shipment, at most 60 s (its timeout timer)",
  "shipment answered within the timeout (the timer goes); done, kept for retentionTime",
]

async function prepareDatabase(engine: string): Promise<string> {
  const { url, db } = await benchDatabase(
    `medusa_wep_bench_long_running_${engine}`
  )
  await db.destroy()
  await (engine === "ours" ? migrateOurs(url) : migrate(url, MEDUSA_MIGRATIONS))
  return url
}

/** Empties the Redis engine's own database (BENCH_REDIS_DB), and only that one. */
async function flushRedis(): Promise<void> {
  // ioredis as the Redis engine installs it (not a dependency of this package).
  const Redis = require(
    require.resolve("ioredis", {
      paths: [path.dirname(require.resolve(LONG_RUNNING_ENGINES.redis))],
    })
  )
  const redis = new Redis(REDIS_URL, { lazyConnect: true })
  try {
    await redis.connect()
    await redis.flushdb()
  } finally {
    redis.disconnect()
  }
}

async function runRound(
  engine: string,
  url: string
): Promise<LongRunningRound> {
  if (engine === "redis") {
    await flushRedis()
  }
  const output = await exec(
    process.execPath,
    [
      "--expose-gc",
      "-r",
      TS_NODE,
      path.join(__dirname, "long-running-process.ts"),
    ],
    {
      cwd: path.join(__dirname, ".."),
      env: {
        BENCH_ENGINE: engine,
        DATABASE_URL: url,
        REDIS_URL,
        LOG_LEVEL: "error",
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

const fixed = (value: number, digits: number) => value.toFixed(digits)

export async function run(): Promise<void> {
  const started = performance.now()
  const urls: Record<string, string> = {}
  for (const engine of ENGINES) {
    urls[engine] = await prepareDatabase(engine)
  }

  const rounds: Record<string, LongRunningRound[]> = Object.fromEntries(
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
      console.log(
        `round ${round + 1} ${engine}: ${PHASES.map((p) => `${fixed(result.phases[p].runsPerSecond, 2)} runs/s ${p}`).join(", ")}`
      )
    }
  }

  const m = (engine: string, phase: PhaseName, metric: keyof PhaseResult) =>
    median(rounds[engine].map((r) => r.phases[phase][metric] as number))
  /** Percentiles over every answer (or retry) of every round. */
  const pooled = (
    engine: string,
    phase: PhaseName,
    metric: "answerMs" | "retryLateMs",
    p: number
  ) =>
    percentile(
      rounds[engine]
        .flatMap((r) => r.phases[phase][metric])
        .sort((a, b) => a - b),
      p
    )
  const others = ENGINES.filter((engine) => engine !== "ours")

  console.log(
    `\nLong-running workflow (2 answered async steps, a retry after 1 s, a step timeout that does not fire; stored), ` +
      `${process.env.BENCH_RUNS ?? 10} runs sequentially, ${process.env.BENCH_CONCURRENT_RUNS ?? 160} at 16 in flight, ` +
      `median of ${ROUNDS} rounds (answer and retry percentiles over every round's runs)\n`
  )
  console.log(
    table(
      [
        "phase",
        "engine",
        "runs/s",
        "ours/engine",
        "run p50 ms",
        "answer → next step p50 ms",
        "p99 ms",
        "retry late p50 ms",
        "CPU ms/run",
        "SQL/run",
        "WAL kB/run",
      ],
      PHASES.flatMap((phase) =>
        ENGINES.map((engine) => [
          phase,
          engine,
          fixed(m(engine, phase, "runsPerSecond"), 2),
          engine === "ours"
            ? ""
            : `${fixed(m("ours", phase, "runsPerSecond") / m(engine, phase, "runsPerSecond"), 2)}x`,
          fixed(m(engine, phase, "p50Ms"), 0),
          fixed(pooled(engine, phase, "answerMs", 50), 1),
          fixed(pooled(engine, phase, "answerMs", 99), 1),
          fixed(pooled(engine, phase, "retryLateMs", 50), 0),
          fixed(m(engine, phase, "cpuMsPerRun"), 1),
          fixed(m(engine, phase, "sqlPerRun"), 1),
          fixed(m(engine, phase, "walBytesPerRun") / 1024, 1),
        ])
      )
    )
  )

  // What ours sends per run, by statement, in the last round's sequential phase.
  const last = rounds.ours[rounds.ours.length - 1].phases.sequential
  console.log("\nOurs, statements per run by text (last round, sequential)\n")
  console.log(
    table(
      ["statement", "per run"],
      Object.entries(last.sqlByStatement)
        .sort((a, b) => b[1] - a[1])
        .map(([sql, n]) => [`\`${sql.replace(/\|/g, "\\|")}\``, fixed(n, 2)])
    )
  )

  console.log(
    "\nOurs, one run alone: its statements in the order sent, between what the driver saw (last round)\n"
  )
  console.log(
    ["```", ...rounds.ours[rounds.ours.length - 1].trace, "```"].join("\n")
  )

  console.log(
    `\nDurable state changes of one run (${DURABLE_CHANGES.length}):\n${DURABLE_CHANGES.map((c, i) => `${i + 1}. ${c}`).join("\n")}`
  )

  const goals: [string, boolean, string][] = []
  for (const phase of PHASES) {
    const ours = m("ours", phase, "runsPerSecond")
    for (const [engine, factor] of [
      ["redis", 3],
      ["inmemory", 2],
    ] as const) {
      const theirs = m(engine, phase, "runsPerSecond")
      goals.push([
        `ours runs/s >= ${factor}x ${engine}'s (${phase})`,
        ours >= factor * theirs,
        `${fixed(ours, 2)} vs ${fixed(theirs, 2)} runs/s (${fixed(ours / theirs, 2)}x)`,
      ])
    }
    const sql = m("ours", phase, "sqlPerRun")
    goals.push([
      `ours statements per run <= ${DURABLE_CHANGES.length}, one per durable state change (${phase})`,
      Math.round(sql * 10) / 10 <= DURABLE_CHANGES.length,
      fixed(sql, 2),
    ])
  }
  console.log("\nGoals\n")
  for (const [goal, met, numbers] of goals) {
    console.log(`- ${met ? "met" : "MISSED"}: ${goal}: ${numbers}`)
  }
  console.log(
    `\nDatabases ${ENGINES.map((e) => `medusa_wep_bench_long_running_${e}`).join(", ")} and Redis database ${REDIS_DB} ` +
      `are left for inspection; the next run recreates them. Took ${Math.round((performance.now() - started) / 1000)} s.`
  )
}
