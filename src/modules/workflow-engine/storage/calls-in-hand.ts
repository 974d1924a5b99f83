import { Logger } from "@medusajs/framework/types"
import { InFlight } from "../in-flight"

/** How long a shutdown waits for the storage calls in flight before it lets the pool go. */
export const SHUTDOWN_DRAIN_MS = 10_000

/**
 * The storage calls in flight in this process. Medusa's orchestrator makes
 * some from chains nobody awaits: an async step's end reported to a run that
 * ended meanwhile, the clean-up after it. A shutdown waits for them, so they
 * do not meet a closed pool (or, in tests, a dropped schema).
 */
export class CallsInHand {
  private readonly calls = new InFlight()

  track<T>(call: Promise<T>): Promise<T> {
    return this.calls.track(call)
  }

  /**
   * Resolves once no call is in flight, looking again after each settles:
   * the chain that made one makes its next as soon as it has the answer.
   */
  async drained(logger: Logger): Promise<void> {
    let timeout: NodeJS.Timeout | undefined
    const deadline = new Promise<"late">((resolve) => {
      timeout = setTimeout(() => resolve("late"), SHUTDOWN_DRAIN_MS)
      timeout.unref()
    })
    try {
      while (this.calls.size) {
        if ((await Promise.race([this.calls.settled(), deadline])) === "late") {
          logger.warn(
            `Workflow engine: ${this.calls.size} storage call(s) still in flight after ${SHUTDOWN_DRAIN_MS} ms of shutdown`
          )
          return
        }
        await new Promise((resolve) => setImmediate(resolve))
      }
    } finally {
      clearTimeout(timeout)
    }
  }
}

/** Counts a storage method's calls among the calls in hand of its `callsInHand`. */
export function inHand(
  _target: object,
  _name: string,
  descriptor: PropertyDescriptor
): void {
  const method = descriptor.value as (...args: unknown[]) => Promise<unknown>
  descriptor.value = function (
    this: { callsInHand: CallsInHand },
    ...args: unknown[]
  ) {
    return this.callsInHand.track(method.apply(this, args))
  }
}
