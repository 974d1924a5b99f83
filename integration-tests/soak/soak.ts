import { ClientLoad } from "./client-load"
import { FaultPlan, landFaults, planFaults } from "./fault-schedule"
import { InstanceSlot, ProcessLife } from "./instance-slots"
import fs from "fs"
import os from "os"
import path from "path"
import { checkSoak, SoakVerdict } from "./soak-checks"
import { SoakConfig, seededRandom } from "./soak-config"
import { SoakDatabase } from "./soak-database"
import { SoakEvidence } from "./soak-evidence"
import {
  LatencyWindow,
  latencyWindows,
  medianInFlight,
  takeoverMs,
} from "./soak-figures"
import { Fault } from "./soak-records"

const SLOT_NAMES = "abcdefghij"
// What an instance logs when it finds it was judged dead while it was alive (a pause past its lease),
// and when the fence refused one of its writes to a run taken over meanwhile.
const LEASE_LOST = /found its lease gone/g
const FENCED_OUT = /was refused: the run was taken over/g

export type SoakReport = {
  config: SoakConfig
  plan: FaultPlan
  /** Seconds the load ran (clients started runs), and until every run ended after it (undefined: not by the deadline). */
  loadSeconds: number
  settleSeconds: number | undefined
  runsPerSecond: number
  kills: number
  /** Replacement processes started after the kills. */
  instanceRestarts: number
  dbRestarts: number
  faults: (Fault & { atS: number; backS?: number })[]
  /** Median runs in flight per instance slot, sampled each second of the load. */
  inFlightMedian: Record<string, number>
  latency: LatencyWindow[]
  /** Per kill: the runs the killed process had told started and not ended, and how long until all had ended. */
  takeover: { process: string; runs: number; ms?: number }[]
  /** Times a live instance found its lease gone (judged dead while alive): a pause, or the database away. */
  leasesLostWhileAlive: number
  /** Writes the fence refused (logged by the instance that tried them). */
  fencedWrites: number
  listMismatches: string[]
  /** Where each engine process's output was written (`<process>.log`). */
  logDir: string
  verdict: SoakVerdict
}

/**
 * The soak: a throwaway Postgres, `instances` engine processes, clients at
 * `loopsPerInstance` runs in flight per instance for `loadSeconds`, a
 * SIGKILL of a random instance every `killEverySeconds` and one restart of
 * the database; then every run must end, and the database is checked
 * against what the clients were told (see soak-checks).
 */
export async function runSoak(
  config: SoakConfig,
  progress: (line: string) => void = () => undefined
): Promise<SoakReport> {
  const plan = planFaults(config, seededRandom(config.seed))
  const db = await SoakDatabase.start()
  const lives: ProcessLife[] = []
  const env = {
    DATABASE_URL: db.url,
    LEASE_MS: String(config.leaseMs),
    PURGE_INTERVAL_SECONDS: String(config.purgeIntervalSeconds),
  }
  const slots = [...SLOT_NAMES.slice(0, config.instances)].map(
    (name) => new InstanceSlot(name, env, lives)
  )
  try {
    await Promise.all(slots.map((slot) => slot.running()))
    progress(
      `${slots.length} instances ready; load for ${config.loadSeconds} s, faults at ${JSON.stringify(plan)}`
    )
    const loadStartedAt = Date.now()
    const loadEndsAt = loadStartedAt + config.loadSeconds * 1000
    const faults: Fault[] = []
    const load = new ClientLoad(
      slots,
      db,
      config,
      seededRandom(config.seed + 1),
      loadEndsAt
    )
    const [settledAt] = await Promise.all([
      load.run(),
      landFaults(
        plan,
        slots,
        db,
        config,
        seededRandom(config.seed + 2),
        loadStartedAt,
        faults
      ).then(() =>
        progress(
          `faults landed: ${faults.map((fault) => (fault.kind === "kill" ? fault.process : fault.kind)).join(", ")}`
        )
      ),
    ])
    progress(
      `load over: ${load.runs.length} runs started, ${settledAt ? "every run ended" : "runs still in flight at the deadline"}`
    )
    const evidence = await SoakEvidence.read(
      db,
      new Map(lives.map((life) => [life.pid, life.name])),
      faults
    )
    const verdict = checkSoak(
      evidence,
      load.runs,
      load.requests,
      config.leaseMs
    )
    const logDir = writeLogs(lives)
    const kills = faults.filter((fault) => fault.kind === "kill").length
    return {
      config,
      plan,
      loadSeconds: Math.round((loadEndsAt - loadStartedAt) / 1000),
      settleSeconds:
        settledAt === undefined
          ? undefined
          : Math.round((settledAt - loadEndsAt) / 100) / 10,
      runsPerSecond:
        Math.round((load.runs.length / config.loadSeconds) * 10) / 10,
      kills,
      instanceRestarts: lives.length - slots.length,
      dbRestarts: faults.length - kills,
      faults: faults.map((fault) => ({
        ...fault,
        atS: Math.round((fault.at - loadStartedAt) / 100) / 10,
        backS:
          fault.back === undefined
            ? undefined
            : Math.round((fault.back - loadStartedAt) / 100) / 10,
      })),
      inFlightMedian: medianInFlight(load.inFlight),
      latency: latencyWindows(load.requests, faults, loadStartedAt, loadEndsAt),
      takeover: takeoverMs(load.runs, faults),
      leasesLostWhileAlive: countInOutputs(lives, LEASE_LOST),
      fencedWrites: countInOutputs(lives, FENCED_OUT),
      listMismatches: load.listMismatches,
      logDir,
      verdict,
    }
  } finally {
    await Promise.all(slots.map((slot) => slot.stop()))
    await db.destroy()
  }
}

/** Each process's output in a fresh temp folder: what a report of a stuck or doubled run points to. */
function writeLogs(lives: ProcessLife[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-wep-soak-"))
  for (const life of lives) {
    fs.writeFileSync(
      path.join(dir, `${life.name}.log`),
      `pid ${life.pid}\n${life.output()}`
    )
  }
  return dir
}

function countInOutputs(lives: ProcessLife[], pattern: RegExp): number {
  return lives.reduce(
    (sum, life) => sum + (life.output().match(pattern)?.length ?? 0),
    0
  )
}
