/** A timer anyone may fire was set: wake up and look at the next due time. */
export const TIMER_CHANNEL = "workflow_engine_timer"

/** A schedule changed (added, removed, new options). */
export const SCHEDULE_CHANNEL = "workflow_engine_schedule"

/** A run event was recorded in the outbox (events/): a deliverer takes it. */
export const EVENT_CHANNEL = "workflow_engine_event"

/** A stored transaction was advanced; the payload names it (see sql/notify-finished.ts). */
export const TRANSACTION_CHANNEL = "workflow_engine_transaction"

/**
 * One instance's own channel: its lease renewals notify it, and its listener
 * must hear them, or its LISTEN connection is deaf (cut silently, or behind a
 * transaction pooler).
 */
export function heartbeatChannel(instanceId: string): string {
  return `workflow_engine_heartbeat_${instanceId.toLowerCase()}`
}
