/**
 * The `data` of every event in event-names.ts, as a subscriber receives it
 * (snake_case, as Medusa's event payloads are).
 */
export type WorkflowExecutionEventData = {
  /**
   * This event's own id, the same on every delivery of it: the rare second
   * delivery (docs/events.md) carries the same id, so a subscriber that must
   * act once keeps the ids it handled.
   */
  event_id: string
  /** The execution's id (`wf_exec_…`); a run removed at its end (no retention) is no longer stored under it. */
  id: string
  workflow_id: string
  transaction_id: string
  run_id: string
  /** The run's state when the event was recorded: failed, reverted, or the state in flight (invoking, compensating, …). */
  state: string
  /** The failing step (its action name, as `retryStep` takes it), or null when none is known. */
  step_id: string | null
  /** The first error's message, cut to EVENT_ERROR_MESSAGE_MAX_LENGTH characters; null when none is known. */
  error_message: string | null
  /** The commerce ids the run's input named (order_…, cus_…: the `resource_id` list filter's), empty when none. */
  resource_ids: string[]
  /** Stuck runs only: when the run last moved (its last stored write), ISO 8601. */
  last_moved_at?: string
}
