import { TransactionFlow } from "@medusajs/framework/orchestration"

/**
 * Which version of its run's row each execution in this process last loaded
 * or wrote. A row's version is its `xmin`: every change of the row, by any
 * writer (a checkpoint, an answer, a recovery, a handler note, a keep), makes
 * a new one. While the row is still at that version, nothing but this
 * execution has changed the run since it last saw it, so the checks a locked
 * write makes of the stored run (not overtaken, nothing to merge, the answer
 * still waits, the timer still applies) hold without reading it, and the
 * checkpoint is written by one conditional UPDATE (see checkpoint-store).
 *
 * The version is held per execution, not per run: two executions of one run
 * in this process (an answer and a retry, say) each know only what they saw.
 * An execution the storage loaded carries an id of its own on its live flow,
 * which Medusa's orchestrator copies into every checkpoint; the one that
 * started the run carries none and is known by its run.
 */

// On the live flow, beside the ownership (fencing.ts).
const SEEN = "seen"
type Seen = { execution: number; version?: string }
type FlowWithSeen = TransactionFlow & { [SEEN]?: Seen }

/** Executions whose last version is remembered; past it, the oldest are forgotten (their next write takes the lock). */
const REMEMBERED_EXECUTIONS = 10_000

/** An execution's key, and the version of the row it last loaded or wrote, if known. */
export type SeenVersion = { execution: string; version: string | undefined }

// Numbered across the process: held checkpoints (held-checkpoints) are keyed by execution.
let nextExecution = 1

/** Which execution a live flow (the orchestrator's, not a checkpoint's copy) belongs to. */
export function executionOf(flow: TransactionFlow): string {
  return keyOf(flow, (flow as FlowWithSeen)[SEEN])
}

const keyOf = (flow: TransactionFlow, seen: Seen | undefined) =>
  seen
    ? `loaded:${seen.execution}`
    : `started:${flow.modelId}:${flow.transactionId}:${flow.runId}`

export class SeenVersions {
  private readonly written = new Map<string, string>()

  /**
   * Marks a flow the storage loaded as a new execution that saw the row at
   * `version`; every loaded flow is marked, so that none is taken for the
   * execution that started its run.
   */
  carry(flow: TransactionFlow, version: string | undefined): void {
    ;(flow as FlowWithSeen)[SEEN] = {
      execution: nextExecution++,
      version,
    }
  }

  /**
   * Takes the mark off a checkpoint's copy of the flow before it is stored,
   * and says which execution saves it and what it last saw. Called as the
   * save begins, before anything is awaited: two saves of one execution in
   * flight at once each hold the version seen when their checkpoint was made.
   */
  take(flow: TransactionFlow): SeenVersion {
    const known = this.known(flow)
    delete (flow as FlowWithSeen)[SEEN]
    return known
  }

  /** The version of its run's row a live flow's execution last loaded or wrote, if known. */
  current(flow: TransactionFlow): string | undefined {
    return this.known(flow).version
  }

  private known(flow: TransactionFlow): SeenVersion {
    const seen = (flow as FlowWithSeen)[SEEN]
    const execution = keyOf(flow, seen)
    return {
      execution,
      version: this.written.get(execution) ?? seen?.version,
    }
  }

  /** The version an execution's last write left the row at, if remembered. */
  lastWritten(execution: string): string | undefined {
    return this.written.get(execution)
  }

  /** Records the version an execution's write left the row at; undefined when the row is gone or the run finished. */
  wrote(execution: string, version: string | undefined): void {
    this.written.delete(execution)
    if (version === undefined) {
      return
    }
    this.written.set(execution, version)
    if (this.written.size > REMEMBERED_EXECUTIONS) {
      this.written.delete(this.written.keys().next().value!)
    }
  }
}
