/*
 * When a step of a stored run can be retried by hand: the one rule that the
 * retry route, the bulk retry (bulk/) and the admin panel apply, so the panel
 * offers exactly what the routes accept. No imports: the admin bundle loads this file too, and no
 * server code may come with it.
 */

/** `TransactionStepStatus.WAITING`: the step was invoked and its answer has not come (an async step, or one still running). */
export const WAITING_RESPONSE = "waiting_response"

/** What of a stored step (a value of the run's `execution.steps`) the rule reads. */
export type StoredStepForRetry = {
  invoke?: { status?: string }
  /** Set on every step once the run compensates: the step's key then names its compensation, not its invoke. */
  stepFailed?: boolean
  definition?: { retryIntervalAwaiting?: number }
}

/**
 * Why a call to Medusa's retryStep for this step's invoke would be taken
 * and still not run the step again now, or null. Medusa's own check only
 * reads the status (anything but waiting_response is NOT_ALLOWED, with its
 * own message); these are the cases it lets through:
 * - a step of a compensating run: Medusa throws a plain "Incorrect action type." error;
 * - a step with `retryIntervalAwaiting`: Medusa takes the call, but runs the
 *   step again only once that interval has passed since its last attempt,
 *   which its own timer does anyway.
 */
export function retryObstacle(step: StoredStepForRetry): string | null {
  if (step.stepFailed) {
    return "its run is compensating"
  }
  const interval = step.definition?.retryIntervalAwaiting
  if (interval) {
    return `it is invoked again every ${interval} s while it waits (retryIntervalAwaiting), and a retry by hand would wait for that too`
  }
  return null
}

/** Whether Medusa's retryStep runs this step's invoke again now. */
export function isRetryable(step: StoredStepForRetry): boolean {
  return (
    step.invoke?.status === WAITING_RESPONSE && retryObstacle(step) === null
  )
}
