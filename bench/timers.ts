/**
 * Timer lateness benchmark: how late a durable retry starts. Each round
 * starts 16 stored runs at once whose step fails its first attempt and is
 * retried after `retryInterval: 1`, and measures, per run, when the retry
 * attempt started minus when it was due (the first attempt's failure plus
 * 1 s), through
 *   - this engine (the retry is a row in workflow_execution_timer, armed in
 *     the process that set it and claimed before it fires),
 *   - Medusa's in-memory engine (a setTimeout in its process),
 * each in a process of its own (./timer-process.ts) on its own database,
 * rounds interleaved. Percentiles are over every run of every round.
 *
 *   npm run bench -- timers      BENCH_ROUNDS (5), BENCH_RUNS (16) per round
 */
import path from "path"
import { RESULT_MARKER, TIMER_ENGINES, TimerRound } from "./timer-process"
import {
  benchDatabase,
  exec,
  MEDUSA_MIGRATIONS,
  migrate,
  migrateOurs,
  table,
} from "./support"

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const TS_NODE = require.resolve("ts-node/register/transpile-only")
const ENGINES = Object.keys(TIMER_ENGINES)

async function prepareDatabase(engine: string): Promise<string> {
  const { url, db } = await benchDatabase(`medusa_wep_bench_timers_${engine}`)
  await db.destroy()
  await (engine === "ours" ? migrateOurs(url) : migrate(url, MEDUSA_MIGRATIONS))
  return url
}

async function runRound(engine: string, url: string): Promise<TimerRound> {
  const output = await exec(
    process.execPath,
    ["-r", TS_NODE, path.join(__dirname, "timer-process.ts")],
    {
      cwd: path.join(__dirname, ".."),
      env: { BENCH_ENGINE: engine, DATABASE_URL: url, LOG_LEVEL: "error" },
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

function percentile(sorted: number[], p: number): number {
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ]
}

export async function run(): Promise<void> {
  const started = performance.now()
  const urls: Record<string, string> = {}
  for (const engine of ENGINES) {
    urls[engine] = await prepareDatabase(engine)
  }

  const lateness: Record<string, number[]> = Object.fromEntries(
    ENGINES.map((engine) => [engine, []])
  )
  const setLate: number[] = []
  const firedLate: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...ENGINES].reverse() : ENGINES
    for (const engine of order) {
      const result = await runRound(engine, urls[engine])
      lateness[engine].push(...result.latenessMs)
      setLate.push(...(result.setLateMs ?? []))
      firedLate.push(...(result.firedLateMs ?? []))
      console.log(
        `round ${round + 1} ${engine}: max ${Math.max(...result.latenessMs)} ms late`
      )
    }
  }

  const row = (name: string, values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b)
    return [
      name,
      sorted.length,
      percentile(sorted, 50),
      percentile(sorted, 99),
      sorted[sorted.length - 1],
      sorted[0],
    ]
  }
  console.log(
    `\nRetry lateness: retry attempt started − (first attempt failed + 1 s), ms; ` +
      `${process.env.BENCH_RUNS ?? 16} runs at once per round, ${ROUNDS} rounds\n`
  )
  console.log(
    table(
      ["engine", "retries", "p50 ms", "p99 ms", "max ms", "min ms"],
      [
        ...ENGINES.map((engine) => row(engine, lateness[engine])),
        row("ours, of which: timer due_at − due (setting it)", setLate),
        row(
          "ours, of which: retry started − timer due_at (firing it)",
          firedLate
        ),
      ]
    )
  )
  console.log(`\nTook ${Math.round((performance.now() - started) / 1000)} s.`)
}
