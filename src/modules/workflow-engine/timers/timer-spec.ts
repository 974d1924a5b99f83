/** What a timer does when it fires; each kind continues the transaction through the engine. */
export type TimerKind =
  /** a retry interval (`retryInterval`, `retryIntervalAwaiting`) ran out */
  | "retry"
  /** work of an async step finished or must go on now: continue the run (Medusa's retry of 0 s) */
  | "continue"
  | "step_timeout"
  | "transaction_timeout"

/** A pending timer, as stored in `workflow_execution_timer`. */
export type TimerSpec = {
  key: string
  kind: TimerKind
  workflow_id: string
  transaction_id: string
  step_id: string | null
  /** The step's attempt when the timer was set: a retry for another attempt is stale. */
  attempt: number | null
  /** What a continued run needs of the transaction: event group, parent step. */
  metadata: Record<string, unknown>
}

/**
 * A claimed timer: `due_at` tells this claim from a later one under the same
 * key. `armed`: set and armed by this instance, claimed for firing only by its
 * run's load (see fire-timer).
 */
export type ClaimedTimer = TimerSpec & { due_at: Date; armed?: boolean }
