/**
 * Timer lateness benchmark: how late a durable retry starts. A run's step
 * fails its first attempt and is retried after its `retryInterval` (1 s; 10 s
 * for 256 runs, see retryIntervalSeconds); its lateness is when the retry
 * attempt started minus when it was due (the moment the first attempt threw,
 * plus the interval), both by Date.now() on this machine. Each case starts BENCH_SIZES runs at once (16 and 256), through
 *   - ours, alone: one instance sets the retry timers (rows in
 *     workflow_execution_timer, armed in its process) and fires them;
 *   - Medusa's in-memory engine, alone (a setTimeout in its process);
 *   - ours, written elsewhere: a `server` instance starts the runs and writes
 *     their timers, a worker instance (another process) fires them, told by
 *     NOTIFY;
 * each instance a process of its own (./timer-process.ts) on its engine's
 * database, booted once per round and warmed by one unrecorded batch of 16,
 * the set-ups interleaved (the order turns each round). Lateness splits at
 * the moment the orchestrator asked the engine for the retry (its
 * scheduleRetry call): before it, Medusa's orchestrator finishing the failed
 * attempt (its checkpoint); after it, the engine.
 *
 *   npm run bench -- timers      BENCH_ROUNDS (3), BENCH_SIZES (16,256)
 */
import { ChildProcess, spawn } from "child_process"
import os from "os"
import path from "path"
import {
  READY_MARKER,
  RetryIntervalSeconds,
  RunTimes,
  TimerCommand,
  TimerRole,
} from "./timer-process"
import {
  benchDatabase,
  median,
  MEDUSA_MIGRATIONS,
  migrate,
  migrateOurs,
  table,
} from "./support"

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const SIZES = (process.env.BENCH_SIZES ?? "16,256").split(",").map(Number)
const WARM_UP = 16
const TS_NODE = require.resolve("ts-node/register/transpile-only")
const GOALS = { aloneP99Ms: 25, elsewhereP99Ms: 50 }

type SetUp = "ours" | "inmemory" | "ours, written elsewhere"
const SET_UPS: SetUp[] = ["ours", "inmemory", "ours, written elsewhere"]

async function prepareDatabase(engine: string): Promise<string> {
  const { url, db } = await benchDatabase(`medusa_wep_bench_timers_${engine}`)
  await db.destroy()
  await (engine === "ours" ? migrateOurs(url) : migrate(url, MEDUSA_MIGRATIONS))
  return url
}

type Instance = {
  ask: (command: TimerCommand) => Promise<Record<string, RunTimes>>
  stop: () => Promise<void>
}

function startInstance(
  engine: string,
  role: TimerRole,
  url: string
): Promise<Instance> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["-r", TS_NODE, path.join(__dirname, "timer-process.ts")],
    {
      cwd: path.join(__dirname, ".."),
      env: {
        ...process.env,
        MEDUSA_DISABLE_TELEMETRY: "true",
        BENCH_ENGINE: engine,
        BENCH_ROLE: role,
        DATABASE_URL: url,
        LOG_LEVEL: "error",
      },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    }
  )
  let output = ""
  child.stdout!.on("data", (chunk) => (output += chunk))
  child.stderr!.on("data", (chunk) => (output += chunk))
  // A bench that stops takes the child with it; one listener per child, gone with it.
  const kill = () => child.kill("SIGKILL")
  process.once("exit", kill)
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      process.removeListener("exit", kill)
      resolve()
    })
  )
  let lastId = 0
  const instance: Instance = {
    ask: (command) =>
      new Promise((resolve, reject) => {
        const id = ++lastId
        const onMessage = (message: {
          id: number
          reply?: Record<string, RunTimes>
          error?: string
        }) => {
          if (message.id !== id) {
            return
          }
          child.off("message", onMessage)
          message.error === undefined
            ? resolve(message.reply!)
            : reject(
                new Error(
                  `${engine} ${role}: ${message.error}\n${output.slice(-4000)}`
                )
              )
        }
        child.on("message", onMessage)
        child.send({ id, command })
      }),
    stop: async () => {
      child.disconnect()
      await exited
    },
  }
  return new Promise((resolve, reject) => {
    const onData = () => {
      if (output.includes(READY_MARKER)) {
        child.stdout!.off("data", onData)
        resolve(instance)
      }
    }
    child.stdout!.on("data", onData)
    child.once("exit", (code) =>
      reject(
        new Error(`${engine} ${role} exited (${code}):\n${output.slice(-8000)}`)
      )
    )
  })
}

/** A batch of runs through one set-up: the times of each run, merged from the processes that saw them. */
type Batch = (prefix: string, size: number) => Promise<Timed[]>

async function bootSetUp(
  setUp: SetUp,
  urls: Record<string, string>
): Promise<{ batch: Batch; stop: () => Promise<void> }> {
  if (setUp !== "ours, written elsewhere") {
    const alone = await startInstance(setUp, "alone", urls[setUp])
    return {
      batch: async (prefix, size) =>
        Object.values(
          await alone.ask({
            start: {
              prefix,
              size,
              retryIntervalSeconds: retryIntervalSeconds(size),
            },
          })
        ).map((times) => ({
          ...times,
          intervalMs: retryIntervalSeconds(size) * 1000,
        })),
      stop: alone.stop,
    }
  }
  const firer = await startInstance("ours", "firer", urls.ours)
  const writer = await startInstance("ours", "writer", urls.ours)
  return {
    batch: async (prefix, size) => {
      const written = await writer.ask({
        start: {
          prefix,
          size,
          retryIntervalSeconds: retryIntervalSeconds(size),
        },
      })
      // A run whose failure took longer than the interval to store was retried at once, on the writer.
      const fired = await firer.ask({
        await: {
          keys: Object.keys(written).filter(
            (key) => written[key].retriedAt === undefined
          ),
        },
      })
      return Object.entries(written).map(([key, times]) => ({
        ...times,
        retriedAt: times.retriedAt ?? fired[key].retriedAt,
        intervalMs: retryIntervalSeconds(size) * 1000,
      }))
    },
    stop: async () => {
      await writer.stop()
      await firer.stop()
    },
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ]
}

/**
 * 1 s, but 10 s for more than 16 runs at once: on this 2 vCPU machine,
 * storing 256 failed attempts at once takes longer than 1 s, and a run whose
 * failure is stored after its interval ran out is retried at once, with no
 * timer at all.
 */
const retryIntervalSeconds = (size: number): RetryIntervalSeconds =>
  size > 16 ? 10 : 1

type Timed = RunTimes & { intervalMs: number }
type Measure = "late" | "asked" | "engine"
const MEASURES: Record<Measure, (run: Timed) => number> = {
  late: (run) => run.retriedAt! - (run.failedAt! + run.intervalMs),
  asked: (run) => run.askedAt! - run.failedAt!,
  engine: (run) => run.retriedAt! - (run.askedAt! + run.intervalMs),
}

export async function run(): Promise<void> {
  const started = performance.now()
  const urls = {
    ours: await prepareDatabase("ours"),
    inmemory: await prepareDatabase("inmemory"),
  }

  // Per set-up and size, per round: each run's times.
  const rounds = new Map<string, Timed[][]>()
  // Runs whose failed attempt took longer than the interval to store: the orchestrator retried them at once, never asking for a timer.
  const untimed = new Map<string, number>()
  const keyOf = (setUp: SetUp, size: number) => `${setUp}|${size}`
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...SET_UPS.slice(round % 3), ...SET_UPS.slice(0, round % 3)]
    for (const setUp of round % 2 ? order.reverse() : order) {
      const { batch, stop } = await bootSetUp(setUp, urls)
      try {
        const tag = `r${round}-${process.pid}-${setUp.replace(/\W+/g, "")}`
        await batch(`${tag}-warm-up`, WARM_UP)
        for (const size of SIZES) {
          const all = await batch(`${tag}-${size}`, size)
          // The others were retried with no timer at all (see untimed).
          const runs = all.filter((run) => run.askedAt !== undefined)
          untimed.set(
            keyOf(setUp, size),
            (untimed.get(keyOf(setUp, size)) ?? 0) + all.length - runs.length
          )
          const key = keyOf(setUp, size)
          rounds.set(key, [...(rounds.get(key) ?? []), runs])
          console.log(
            `round ${round + 1} ${setUp}, ${size} at once, p50/p99 ms: late ` +
              `${percentile(runs.map(MEASURES.late), 50)}/${percentile(runs.map(MEASURES.late), 99)}, asked − threw ` +
              `${percentile(runs.map(MEASURES.asked), 50)}/${percentile(runs.map(MEASURES.asked), 99)}, engine ` +
              `${percentile(runs.map(MEASURES.engine), 50)}/${percentile(runs.map(MEASURES.engine), 99)}`
          )
        }
      } finally {
        await stop()
      }
    }
  }

  const rows: (string | number)[][] = []
  const verdicts: string[] = []
  for (const size of SIZES) {
    for (const setUp of SET_UPS) {
      const perRound = rounds.get(keyOf(setUp, size)) ?? []
      const stat = (measure: Measure, p: number | "max") =>
        median(
          perRound.map((runs) => {
            const values = runs.map(MEASURES[measure])
            return p === "max" ? Math.max(...values) : percentile(values, p)
          })
        )
      rows.push([
        setUp,
        size,
        untimed.get(keyOf(setUp, size)) ?? 0,
        stat("late", 50),
        stat("late", 99),
        stat("late", "max"),
        stat("asked", 50),
        stat("asked", 99),
        stat("engine", 50),
        stat("engine", 99),
      ])
      if (setUp !== "inmemory") {
        const goal = setUp === "ours" ? GOALS.aloneP99Ms : GOALS.elsewhereP99Ms
        const p99 = stat("late", 99)
        verdicts.push(
          `- ${p99 <= goal ? "met" : "MISSED"}: ${setUp}, ${size} at once, p99 ≤ ${goal} ms late: ${p99} ms ` +
            `(of which the engine, after the orchestrator asked: ${stat("engine", 99)} ms)`
        )
      }
    }
  }
  console.log(
    `\nRetry lateness, ms: retry attempt started − (first attempt threw + its interval: ` +
      `${SIZES.map((size) => `${retryIntervalSeconds(size)} s at ${size}`).join(", ")}); ` +
      `medians over ${ROUNDS} rounds of each round's percentile; ${os.cpus().length} CPUs, ` +
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}\n`
  )
  console.log(
    table(
      [
        "set-up",
        "at once",
        "no timer (all rounds)",
        "late p50",
        "late p99",
        "late max",
        "asked − threw p50",
        "asked − threw p99",
        "started − (asked + interval) p50",
        "started − (asked + interval) p99",
      ],
      rows
    )
  )
  console.log(`\n${verdicts.join("\n")}`)
  console.log(`\nTook ${Math.round((performance.now() - started) / 1000)} s.`)
}
