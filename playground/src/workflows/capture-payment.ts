import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"

export const CAPTURE_PAYMENT = "capture-payment"
export const WAIT_FOR_CAPTURE = "wait-for-capture"

const authorizePayment = createStep(
  "authorize-payment",
  async (input: { payment_id: string }) => {
    return new StepResponse({ authorized: input.payment_id })
  }
)

// An async step: the run waits here until someone calls setStepSuccess (the
// payment provider's webhook, in a real store).
const waitForCapture = createStep(
  { name: WAIT_FOR_CAPTURE, async: true },
  async () => {}
)

/** A long-running workflow, stored while it waits and kept for a week. */
export const capturePaymentWorkflow = createWorkflow(
  { name: CAPTURE_PAYMENT, store: true, retentionTime: 7 * 24 * 60 * 60 },
  (input: { payment_id: string }) => {
    const authorized = authorizePayment(input)
    waitForCapture()
    return new WorkflowResponse(authorized)
  }
)
