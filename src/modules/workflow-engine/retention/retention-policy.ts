import { ResolvedWorkflowEngineOptions } from "../options"
import { isFinishedState } from "../transaction-states"

/** Where the retention of a finished run comes from. */
export type RetentionSource =
  /** The workflow's own `retentionTime`. */
  | "workflow"
  /** The module option `defaultRetentionTime`, for a workflow that sets none. */
  | "default_retention_time"
  /** The module option `retentionTimeByState`, longer than the workflow's (or alone). */
  | "retention_time_by_state"

export type RetentionDecision = { seconds: number; source: RetentionSource }

type RetentionOptions = Pick<
  ResolvedWorkflowEngineOptions,
  "defaultRetentionSeconds" | "retentionSecondsByState"
>

/**
 * The retention a run gets once it finishes in `state`, and which setting
 * decided it, or undefined to remove the run when it finishes. The
 * workflow's own `retentionTime` (else the module's default) applies, raised
 * to the module's minimum for that outcome.
 */
export function decideRetention(
  state: string,
  workflowRetentionSeconds: number | undefined,
  options: RetentionOptions
): RetentionDecision | undefined {
  // 0 means "no retention", as in Medusa's engines.
  const own: RetentionDecision | undefined = workflowRetentionSeconds
    ? { seconds: workflowRetentionSeconds, source: "workflow" }
    : options.defaultRetentionSeconds !== undefined
      ? {
          seconds: options.defaultRetentionSeconds,
          source: "default_retention_time",
        }
      : undefined
  const floorSeconds = isFinishedState(state)
    ? options.retentionSecondsByState[state]
    : undefined
  if (floorSeconds === undefined || (own && own.seconds >= floorSeconds)) {
    return own
  }
  return { seconds: floorSeconds, source: "retention_time_by_state" }
}

/**
 * Seconds a run is kept once it finishes in `state`, or undefined to remove it
 * when it finishes (see decideRetention). While a run is in flight this is
 * the retention it will get if it succeeds.
 */
export function retentionSecondsFor(
  state: string,
  workflowRetentionSeconds: number | undefined,
  options: RetentionOptions
): number | undefined {
  return decideRetention(state, workflowRetentionSeconds, options)?.seconds
}
