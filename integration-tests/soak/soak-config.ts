/** What a soak does: how long, how hard, how often a fault lands. Every knob has a default and a unit in its name. */
export type SoakConfig = {
  /** Seconds during which clients start new runs; faults land during this time. */
  loadSeconds: number
  /** Engine instances, each its own OS process. */
  instances: number
  /** Client loops per instance; each keeps one run in flight until the run has ended. */
  loopsPerInstance: number
  /** Seconds between two SIGKILLs of a random instance (each jittered by up to a fifth). */
  killEverySeconds: number
  /** Seconds the database stays down when it is restarted (once per soak, between two kills). */
  dbOutageSeconds: number
  /** The instances' leaseDurationMs: how long after a kill its work is taken over. */
  leaseMs: number
  /** The instances' purgeIntervalSeconds. */
  purgeIntervalSeconds: number
  /** Milliseconds between two admin list calls. */
  listEveryMs: number
  /** Seconds, after the load, within which every run must have ended. */
  settleSeconds: number
  /** Seconds a client waits for an answer to one request before it counts it as unanswered. */
  requestTimeoutSeconds: number
  /** Seed of the soak's random choices (workflows, kill targets, delays): the same seed, the same plan. */
  seed: number
}

export const DEFAULT_SOAK: SoakConfig = {
  loadSeconds: 120,
  instances: 3,
  loopsPerInstance: 20,
  killEverySeconds: 15,
  dbOutageSeconds: 3,
  leaseMs: 5000,
  purgeIntervalSeconds: 5,
  listEveryMs: 250,
  settleSeconds: 120,
  requestTimeoutSeconds: 90,
  seed: 1,
}

/** A small seeded generator (mulberry32): the soak's plan is reproducible from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
