import { InstanceSlot } from "./instance-slots"
import { SoakConfig } from "./soak-config"
import { SoakDatabase } from "./soak-database"
import { Fault } from "./soak-records"

/** When each fault lands, in ms after the load started. */
export type FaultPlan = { killsAtMs: number[]; dbRestartAtMs: number }

// No kill in the load's last seconds: its takeover would fall after the load, with no clients left to feel it.
const QUIET_END_MS = 5000
const KILL_JITTER = 0.2

/**
 * A kill every `killEverySeconds` (jittered), and one database restart
 * halfway between the two kills around the middle of the load, so that
 * no kill lands while the database is down or a replacement starts.
 */
export function planFaults(
  config: SoakConfig,
  random: () => number
): FaultPlan {
  const loadMs = config.loadSeconds * 1000
  const everyMs = config.killEverySeconds * 1000
  const killsAtMs: number[] = []
  for (let k = 1; k * everyMs < loadMs - QUIET_END_MS; k++) {
    killsAtMs.push(
      Math.round(k * everyMs + (random() * 2 - 1) * KILL_JITTER * everyMs)
    )
  }
  const middle = Math.floor(killsAtMs.length / 2)
  const dbRestartAtMs =
    killsAtMs.length >= 2
      ? Math.round((killsAtMs[middle - 1] + killsAtMs[middle]) / 2)
      : Math.round(loadMs / 2)
  return { killsAtMs, dbRestartAtMs }
}

/**
 * Lands the planned faults (the schedule's own timers: it is the plan that
 * waits, not a check): SIGKILL of a random instance that is up, whose slot
 * starts a replacement at once; and the database restart. Each fault is
 * recorded with when it landed and when what it took away was back.
 */
export async function landFaults(
  plan: FaultPlan,
  slots: InstanceSlot[],
  db: SoakDatabase,
  config: SoakConfig,
  random: () => number,
  loadStartedAt: number,
  faults: Fault[]
): Promise<void> {
  const timeline = [
    ...plan.killsAtMs.map((atMs) => ({ atMs, kind: "kill" as const })),
    { atMs: plan.dbRestartAtMs, kind: "db-restart" as const },
  ].sort((x, y) => x.atMs - y.atMs)
  for (const { atMs, kind } of timeline) {
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, loadStartedAt + atMs - Date.now()))
    )
    if (kind === "db-restart") {
      const fault: Fault = { kind, at: Date.now() }
      faults.push(fault)
      await db.restart(config.dbOutageSeconds * 1000)
      fault.back = Date.now()
      continue
    }
    const up = slots.filter((slot) => slot.isUp())
    if (up.length === 0) {
      continue
    }
    const slot = up[Math.floor(random() * up.length)]
    const life = slot.kill()
    const fault: Fault = {
      kind,
      at: life.killedAt!,
      process: life.name,
      slot: slot.name,
      pid: life.pid,
    }
    faults.push(fault)
    void slot.running().then(
      () => (fault.back = Date.now()),
      () => undefined
    )
  }
}
