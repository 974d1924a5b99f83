import { AsyncLocalStorage } from "async_hooks"
import { runKey } from "../run-key"
import { RunTimerClears } from "./sql/delete-timer"
import { RunFence } from "./sql/run-fence"
import { ClaimedTimer } from "./timer-spec"

type Run = { workflowId: string; transactionId: string }

/**
 * The clears of a run's timers made while this process works on the run for
 * one call (a timer it fires, an answer to a step), held: written by the
 * run's next checkpoint write in the call (see removedWithWrite in
 * durable-timers), else sent once the call is done, or not at all when the
 * run's end was stored meanwhile: that write removes every timer of the run.
 * The timer a call fires is removed the same way: by the first checkpoint
 * write of its run in the call, else at its end. A retry's run clears its
 * retry timers as the retried step ends; an answer clears its step's timeout
 * just before the run's next step starts or its end removes it again.
 * Should the process die with clears held, the timers left fire later and
 * are dropped as stale (see stale-timer).
 */
export class HeldClears {
  /** Each held key, with the number of its latest clear: one cleared again while carried stays held. */
  private readonly keys = new Map<string, number>()
  private clears = 0
  private fence?: RunFence
  private seen?: () => string | undefined
  /** The run's end, which removes every timer of the run, was committed. */
  ended = false
  /** The call is done; what its run still does in the background clears at once. */
  over = false
  /** The fired timer's removal was committed with a write of its run. */
  firedRemoved = false

  /** `fired`: the timer whose firing is the call. */
  constructor(
    readonly run: Run,
    readonly fired?: ClaimedTimer
  ) {}

  /**
   * `seen`: the version of the run's row the clearing execution has last
   * loaded or written, asked when the clears are sent (see clearFence).
   */
  hold(keys: string[], fence: RunFence, seen?: () => string | undefined): void {
    keys.forEach((key) => this.keys.set(key, ++this.clears))
    this.fence = fence
    this.seen = seen
  }

  /** A timer set again under a held key stays (see releaseHeldClears). */
  release(key: string): void {
    this.keys.delete(key)
  }

  /** What is left to send, but `sentWith` (the fired timer, whose removal takes only its claim). */
  toSend(sentWith?: string): RunTimerClears | undefined {
    const keys = [...this.keys.keys()].filter((key) => key !== sentWith)
    return keys.length && this.fence && !this.ended
      ? { run: this.run, keys, fence: this.fence, version: this.seen?.() }
      : undefined
  }

  /**
   * What a write of the run under `fence` may carry: the fired timer while it
   * is not removed, and the clears held under that same fence; undefined
   * when there is nothing. `carried` is told once that write committed.
   */
  toCarry(
    fence: RunFence
  ): { fired?: ClaimedTimer; keys: string[]; carried: () => void } | undefined {
    const fired = this.firedRemoved || this.ended ? undefined : this.fired
    const sameFence =
      !!this.fence &&
      this.fence.run_id === fence.run_id &&
      this.fence.epoch === fence.epoch
    const carried = sameFence ? [...this.keys] : []
    if (!fired && !carried.length) {
      return undefined
    }
    return {
      fired,
      keys: carried.map(([key]) => key),
      carried: () => {
        this.firedRemoved ||= !!fired
        for (const [key, clear] of carried) {
          if (this.keys.get(key) === clear) {
            this.keys.delete(key)
          }
        }
      },
    }
  }
}

const holders = new AsyncLocalStorage<HeldClears>()

/** Every call of this process holding clears, by run: two calls of one run can overlap (a firing, an answer). */
const holding = new Map<string, Set<HeldClears>>()

/**
 * Runs `work` (a call working on `run`, the firing of `fired` when given)
 * holding the clears of the run's timers; `done` sends them, and must not throw.
 */
export async function holdingClears<T>(
  run: Run,
  work: () => Promise<T>,
  done: (held: HeldClears) => Promise<void>,
  fired?: ClaimedTimer
): Promise<T> {
  const held = new HeldClears(run, fired)
  const key = runKey(run)
  const ofRun = holding.get(key) ?? new Set<HeldClears>()
  holding.set(key, ofRun.add(held))
  try {
    return await holders.run(held, work)
  } finally {
    held.over = true
    try {
      await done(held)
    } finally {
      ofRun.delete(held)
      if (!ofRun.size && holding.get(key) === ofRun) {
        holding.delete(key)
      }
    }
  }
}

/**
 * A timer of `run` is being set under `key`: no clear of that key held by a
 * call of this process, this one or another working on the same run, may
 * remove it. A clear is by key, and one held by an answer while a firing of
 * the same run set the timer again would otherwise be sent after that set.
 */
export function releaseHeldClears(run: Run, key: string): void {
  holding.get(runKey(run))?.forEach((held) => held.release(key))
}

/** The clears held for `run` by the call this code runs in, while it is not done. */
export function heldClearsOf(run: Run): HeldClears | undefined {
  const held = holders.getStore()
  return held &&
    !held.over &&
    held.run.workflowId === run.workflowId &&
    held.run.transactionId === run.transactionId
    ? held
    : undefined
}
