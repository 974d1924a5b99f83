import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"
import { capturePaymentWorkflow as medusaCapturePayment } from "@medusajs/medusa/core-flows"

export const CAPTURE_PAYMENT = "capture-payment"
export const WAIT_FOR_CAPTURE = "wait-for-capture"
const CAPTURE_AT_PROVIDER = "capture-at-provider"
const RETRY_AFTER_SECONDS = 10

type CaptureInput = {
  payment_id: string
  /** The store's order the payment is for; its payment is captured for real. */
  order_id?: string
}

const authorizePayment = createStep(
  "authorize-payment",
  async (input: CaptureInput) => {
    return new StepResponse({ authorized: input.payment_id })
  }
)

// An async step: the run waits here until someone calls setStepSuccess (the
// order shipped, in a real store).
const waitForCapture = createStep(
  { name: WAIT_FOR_CAPTURE, async: true },
  async () => {}
)

// The demo's payment provider times out on the first capture request of
// every payment; the engine asks again RETRY_AFTER_SECONDS later (a durable
// timer: the seed's process schedules it, the store's server fires it), and
// then it captures.
const captureAtProvider = createStep(
  {
    name: CAPTURE_AT_PROVIDER,
    maxRetries: 1,
    retryInterval: RETRY_AFTER_SECONDS,
  },
  async (input: CaptureInput, { container, metadata }) => {
    if (metadata.attempt === 1) {
      throw new Error(
        `The payment provider timed out capturing ${input.payment_id}`
      )
    }
    if (input.order_id) {
      await medusaCapturePayment(container).run({
        input: { payment_id: input.payment_id },
      })
    }
    return new StepResponse({ captured: input.payment_id })
  }
)

/** A long-running workflow, stored while it waits and kept for a week. */
export const capturePaymentWorkflow = createWorkflow(
  { name: CAPTURE_PAYMENT, store: true, retentionTime: 7 * 24 * 60 * 60 },
  (input: CaptureInput) => {
    const authorized = authorizePayment(input)
    waitForCapture()
    captureAtProvider(input)
    return new WorkflowResponse(authorized)
  }
)
