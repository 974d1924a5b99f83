import { FinishedState, ResolvedWorkflowEngineOptions } from "../options"
import { FINISHED_STATES } from "../transaction-states"


/**
 * Seconds a run is kept once it finishes in `state`, or undefined to remove it
 * when it finishes. The workflow's own `retentionTime` (else the module's
 * default) applies, raised to the module's minimum for that outcome.
 * While a run is in flight this is the retention it will get if it succeeds.
 */
export function retentionSecondsFor(
  state: string,
  workflowRetentionSeconds: number | undefined,
  options: Pick<ResolvedWorkflowEngineOptions, "defaultRetentionSeconds" | "retentionSecondsByState">
): number | undefined {
  // 0 means "no retention", as in Medusa's engines.
  const own = workflowRetentionSeconds || options.defaultRetentionSeconds
  const floor = FINISHED_STATES.has(state) ? options.retentionSecondsByState[state as FinishedState] : undefined
  if (own === undefined) {
    return floor
  }
  return floor === undefined ? own : Math.max(own, floor)
}
