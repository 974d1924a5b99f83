/** How a run ended, as the metrics name it: a cancel that reverted the run is `cancelled`. */
export type RunResult = "done" | "failed" | "reverted" | "cancelled"

/** A run at its end: what its metrics need, and nothing that identifies the run. */
export type EndedRun = {
  workflowId: string
  result: RunResult
  /** When the run began (ms since the epoch, Medusa's `startedAt`), when known. */
  startedAtMs?: number
}

/**
 * What the engine's parts tell the metrics, handed to each by the loader.
 * Attributes stay bounded: workflow and step ids, kinds, results; never a
 * transaction id.
 */
export interface EngineRecorder {
  runEnded(run: EndedRun): void
  stepFailed(workflowId: string, stepId: string): void
  stepRetried(workflowId: string, stepId: string): void
  timerFired(kind: string, latenessMs: number, failed: boolean): void
  takeover(workflowId: string, action: string): void
  purged(
    trigger: string,
    rows: number,
    durationMs: number,
    failed: boolean
  ): void
}

/** Records nothing: parts built without the loader (tests of one part) use it. */
export const NO_RECORDER: EngineRecorder = {
  runEnded: () => undefined,
  stepFailed: () => undefined,
  stepRetried: () => undefined,
  timerFired: () => undefined,
  takeover: () => undefined,
  purged: () => undefined,
}
