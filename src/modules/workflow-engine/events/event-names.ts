/**
 * The events the engine emits on Medusa's Event Module (`Modules.EVENT_BUS`),
 * by name. A store's subscriber imports them from
 * `medusa-workflow-engine-postgres/modules/workflow-engine/events`.
 */
export const WorkflowExecutionEvents = {
  /** A stored run ended `failed`. */
  FAILED: "workflow_execution.failed",
  /** A stored run ended `reverted`: a step failed and the steps before it were compensated. */
  REVERTED: "workflow_execution.reverted",
  /** A step with `autoRetry: false` failed and waits for someone to retry it (`retryStep`). */
  STEP_AWAITING_RETRY: "workflow_execution.step_awaiting_retry",
  /** A run in flight, whose instance is alive, has not moved for `stuckAfterSeconds`. */
  STUCK: "workflow_execution.stuck",
} as const

export type WorkflowExecutionEventName =
  (typeof WorkflowExecutionEvents)[keyof typeof WorkflowExecutionEvents]
