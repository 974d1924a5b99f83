import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"

export const STORE_HEARTBEAT = "store-heartbeat"

const checkStore = createStep(
  "check-store",
  async (input: { scheduled_for: string }) => {
    return new StepResponse({
      checked_at: new Date().toISOString(),
      scheduled_for: input.scheduled_for,
    })
  }
)

/** What the heartbeat job runs: stored, and kept five minutes. */
export const storeHeartbeatWorkflow = createWorkflow(
  { name: STORE_HEARTBEAT, store: true, retentionTime: 5 * 60 },
  (input: { scheduled_for: string }) => {
    return new WorkflowResponse(checkStore(input))
  }
)
