/** A timer anyone may fire was set: wake up and look at the next due time. */
export const TIMER_CHANNEL = "workflow_engine_timer"

/** A schedule changed (added, removed, new options). */
export const SCHEDULE_CHANNEL = "workflow_engine_schedule"

/** A stored transaction was advanced; the payload names it (see transaction-event.ts). */
export const TRANSACTION_CHANNEL = "workflow_engine_transaction"
