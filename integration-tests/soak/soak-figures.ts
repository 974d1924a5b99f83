import { SOAK_WF } from "./__fixtures__/soak-workflows-ids"
import {
  Fault,
  InFlightSample,
  isAcknowledged,
  RequestSample,
  SoakRun,
} from "./soak-records"

/** Latency of the requests sent in one stretch of the load, by kind of request. */
export type LatencyWindow = {
  /** "before any fault", "during kill of b2", "after db restart", … */
  label: string
  fromS: number
  toS: number
  requests: number
  failed: number
  /** p99 in ms by group; undefined when the window had no such request. */
  p99Ms: Record<LatencyGroup, number | undefined>
}

const GROUPS = ["sync run", "async start", "answer", "list"] as const
type LatencyGroup = (typeof GROUPS)[number]

const SYNC: string[] = [SOAK_WF.sync, SOAK_WF.shortLived]

function groupOf(sample: RequestSample): LatencyGroup {
  if (sample.kind === "run") {
    return SYNC.includes(sample.workflowId!) ? "sync run" : "async start"
  }
  return sample.kind
}

export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) {
    return undefined
  }
  const sorted = [...values].sort((x, y) => x - y)
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ]
}

const nameOf = (fault: Fault) =>
  fault.kind === "kill" ? `kill of ${fault.process}` : "database restart"

/**
 * The load cut at each fault: before the first, then for each fault the
 * stretch "during" (from the fault until what it took away is back: the
 * replacement process ready, or the database up again) and "after" (until
 * the next fault or the end of the load). The takeover of a killed
 * instance's work, up to one lease after the kill, falls in either. Each
 * request counts in the stretch it was sent in; failed requests count as
 * failed, not in the latency.
 */
export function latencyWindows(
  requests: RequestSample[],
  faults: Fault[],
  loadStartedAt: number,
  loadEndsAt: number
): LatencyWindow[] {
  const ordered = [...faults].sort((x, y) => x.at - y.at)
  const stretches: { label: string; from: number; to: number }[] = []
  stretches.push({
    label: "before any fault",
    from: loadStartedAt,
    to: ordered[0]?.at ?? loadEndsAt,
  })
  ordered.forEach((fault, i) => {
    const next = ordered[i + 1]?.at ?? loadEndsAt
    const back = Math.min(next, fault.back ?? next)
    stretches.push({
      label: `during ${nameOf(fault)}`,
      from: fault.at,
      to: back,
    })
    stretches.push({ label: `after ${nameOf(fault)}`, from: back, to: next })
  })
  return stretches
    .map(({ label, from, to }) => {
      const sent = requests.filter(
        (sample) => sample.sentAt >= from && sample.sentAt < to
      )
      const p99Ms = Object.fromEntries(
        GROUPS.map((group) => [
          group,
          percentile(
            sent
              .filter((sample) => !sample.error && groupOf(sample) === group)
              .map((sample) => sample.ms),
            99
          ),
        ])
      ) as Record<LatencyGroup, number | undefined>
      return {
        label,
        fromS: Math.round((from - loadStartedAt) / 100) / 10,
        toS: Math.round((to - loadStartedAt) / 100) / 10,
        requests: sent.length,
        failed: sent.filter((sample) => sample.error).length,
        p99Ms,
      }
    })
    .filter((window) => window.requests > 0)
}

/** Per slot, the median of the runs its clients had in flight, sampled each second of the load. */
export function medianInFlight(
  samples: InFlightSample[]
): Record<string, number> {
  const slots = Object.keys(samples[0]?.bySlot ?? {})
  return Object.fromEntries(
    slots.map((slot) => [
      slot,
      percentile(
        samples.map((sample) => sample.bySlot[slot]),
        50
      ) ?? 0,
    ])
  )
}

/**
 * For each kill, how long until every run the killed process had told
 * started, and not yet ended, had ended (as the harness saw the rows), in ms;
 * undefined when it had none, or one never ended.
 */
export function takeoverMs(
  runs: SoakRun[],
  faults: Fault[]
): { process: string; runs: number; ms?: number }[] {
  return faults.flatMap((fault) => {
    if (fault.kind !== "kill") {
      return []
    }
    const held = runs.filter(
      (run) =>
        run.instance === fault.process &&
        isAcknowledged(run) &&
        run.repliedAt! <= fault.at &&
        (run.endedAt ?? Infinity) > fault.at
    )
    const ends = held.map((run) => run.endedAt)
    const ms =
      held.length && ends.every((end) => end !== undefined)
        ? Math.max(...(ends as number[])) - fault.at
        : undefined
    return [{ process: fault.process, runs: held.length, ms }]
  })
}
