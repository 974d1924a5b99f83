import { AsyncLocalStorage } from "async_hooks"
import { RunTimerClears } from "./sql/delete-timer"
import { RunFence } from "./sql/run-fence"

type Run = { workflowId: string; transactionId: string }

/**
 * The clears of a run's timers made while this process works on the run for
 * one call (a timer it fires, an answer to a step), held to be sent once the
 * call is done, with the statement that ends it, or not at all when the run's
 * end was stored meanwhile: that write removes every timer of the run. A
 * retry's run clears its retry timers just before the fired one is removed; an
 * answer clears its step's timeout just before the run's end removes it again.
 * Should the process die with clears held, the timers left fire later and are
 * dropped as stale (see stale-timer).
 */
export class HeldClears {
  private readonly keys = new Set<string>()
  private fence?: RunFence
  /** The run's end, which removes every timer of the run, was committed. */
  ended = false
  /** The call is done; what its run still does in the background clears at once. */
  over = false

  constructor(readonly run: Run) {}

  hold(keys: string[], fence: RunFence): void {
    keys.forEach((key) => this.keys.add(key))
    this.fence = fence
  }

  /** A timer set again under a held key stays. */
  release(key: string): void {
    this.keys.delete(key)
  }

  /** What is left to send, but `sentWith` (the fired timer, whose removal takes only its claim). */
  toSend(sentWith?: string): RunTimerClears | undefined {
    const keys = [...this.keys].filter((key) => key !== sentWith)
    return keys.length && this.fence && !this.ended
      ? { run: this.run, keys, fence: this.fence }
      : undefined
  }
}

const holders = new AsyncLocalStorage<HeldClears>()

/** Runs `work` (a call working on `run`) holding the clears of the run's timers; `done` sends them, and must not throw. */
export async function holdingClears<T>(
  run: Run,
  work: () => Promise<T>,
  done: (held: HeldClears) => Promise<void>
): Promise<T> {
  const held = new HeldClears(run)
  try {
    return await holders.run(held, work)
  } finally {
    held.over = true
    await done(held)
  }
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
