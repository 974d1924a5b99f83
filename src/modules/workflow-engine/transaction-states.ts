import {
  TransactionState,
  TransactionStepState,
} from "@medusajs/framework/utils"

/** A run's finished state by name, as `retentionTimeByState` and the retention report spell it. */
export type FinishedState =
  | `${TransactionState.DONE}`
  | `${TransactionState.FAILED}`
  | `${TransactionState.REVERTED}`

/** The finished states in the order options and reports list them. */
export const FINISHED_STATE_LIST: readonly FinishedState[] = [
  TransactionState.DONE,
  TransactionState.FAILED,
  TransactionState.REVERTED,
]

/** States a run does not leave by itself: only these are ever given an expiry or purged. */
export const FINISHED_STATES: ReadonlySet<string> = new Set<string>(
  FINISHED_STATE_LIST
)

export function isFinishedState(state: string): state is FinishedState {
  return FINISHED_STATES.has(state)
}

/** The states of a run in flight: not finished, whatever it waits for. */
export const IN_FLIGHT_STATE_LIST: readonly string[] = [
  TransactionState.NOT_STARTED,
  TransactionState.INVOKING,
  TransactionState.WAITING_TO_COMPENSATE,
  TransactionState.COMPENSATING,
]

/** The states of a run in flight as a SQL list, as the in-flight unique index's predicate spells them. */
export const IN_FLIGHT_STATES_SQL = IN_FLIGHT_STATE_LIST.map(
  (state) => `'${state}'`
).join(", ")

/**
 * "The row `alias` is a live run still in flight", in the very terms of the
 * in-flight unique index's predicate, so that a query with it reads only
 * that index's rows.
 */
export function isInFlightRow(alias: string): string {
  return `${alias}."deleted_at" IS NULL AND ${alias}."state" IN (${IN_FLIGHT_STATES_SQL})`
}

/** Finished states in which the run did not succeed. */
export const FAILED_STATES = new Set<string>([
  TransactionState.FAILED,
  TransactionState.REVERTED,
])

/** The finished states as a SQL list, for statements that must agree with FINISHED_STATES. */
export const FINISHED_STATES_SQL = [...FINISHED_STATES]
  .map((state) => `'${state}'`)
  .join(", ")

/** States a step does not leave by itself, in the phase (invoke or compensate) it is in. */
export const STEP_FINISHED_STATES = new Set<string>([
  TransactionStepState.DONE,
  TransactionStepState.REVERTED,
  TransactionStepState.FAILED,
  TransactionStepState.SKIPPED,
  TransactionStepState.SKIPPED_FAILURE,
  TransactionStepState.TIMEOUT,
])

/** The finished step states as a SQL list, for statements that must agree with STEP_FINISHED_STATES. */
export const STEP_FINISHED_STATES_SQL = [...STEP_FINISHED_STATES]
  .map((state) => `'${state}'`)
  .join(", ")
