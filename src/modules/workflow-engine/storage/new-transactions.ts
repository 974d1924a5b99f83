import { SkipExecutionError } from "@medusajs/framework/orchestration"
import { runKey } from "../run-key"

/** How a run being started got its transaction id. */
export type StartKind = "generated" | "given"

/**
 * Runs this process is starting right now, and whether the engine generated
 * their transaction id (`auto-<ulid>`) or the caller gave it. The storage
 * reads the mark once, on the run's first load:
 * - a generated id cannot name a stored run yet, so that load skips the table;
 * - a given id may name a stored run, which the start then continues (a timer
 *   or a caller resuming it), except a run still stored as `not_started`: its
 *   steps are running in the execution that inserted it, and running them
 *   again would repeat them. That start is refused, as Medusa's engines
 *   refuse a second start of one transaction id.
 */
export class NewTransactions {
  // Several starts of one given id may be under way at once. `pending` counts
  // the starts whose first load is still to come, `loaded` those whose load
  // came, so that a start forgotten after its load leaves the others' marks.
  protected readonly starts_ = new Map<
    string,
    { kind: StartKind; pending: number; loaded: number }
  >()

  add(
    workflowId: string,
    transactionId: string,
    kind: StartKind = "generated"
  ): void {
    const key = runKey({ workflowId, transactionId })
    const start = this.starts_.get(key) ?? { kind, pending: 0, loaded: 0 }
    start.pending++
    this.starts_.set(key, start)
  }

  /** How a start of this run got its id, once per start; undefined when none is waiting for its load. */
  take(workflowId: string, transactionId: string): StartKind | undefined {
    const start = this.starts_.get(runKey({ workflowId, transactionId }))
    if (!start?.pending) {
      return undefined
    }
    start.pending--
    start.loaded++
    return start.kind
  }

  /** Ends a start, whether or not its run loaded it (a run that is not stored never does). */
  forget(workflowId: string, transactionId: string): void {
    const key = runKey({ workflowId, transactionId })
    const start = this.starts_.get(key)
    if (!start) {
      return
    }
    if (start.loaded) {
      start.loaded--
    } else {
      start.pending--
    }
    if (!start.pending && !start.loaded) {
      this.starts_.delete(key)
    }
  }
}

/** What a second start of one transaction id is told, whichever check finds it. */
export function alreadyStarted(transactionId: string): SkipExecutionError {
  return new SkipExecutionError(
    `Transaction already started for transactionId: ${transactionId}`
  )
}
