import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"

export const SEND_ORDER_CONFIRMATION = "send-order-confirmation"

type ConfirmationInput = { order_id: string; customer_id?: string }

const renderEmail = createStep(
  "render-email",
  async (input: ConfirmationInput) => {
    return new StepResponse({ subject: `Your order ${input.order_id}` })
  }
)

const sendEmail = createStep("send-email", async (input: ConfirmationInput) => {
  return new StepResponse({
    sent_to: `customer-of-${input.order_id}@example.com`,
  })
})

/**
 * A stored workflow kept for one second only: its runs are past their
 * retention right after they finish and wait for the next purge.
 */
export const sendOrderConfirmationWorkflow = createWorkflow(
  { name: SEND_ORDER_CONFIRMATION, store: true, retentionTime: 1 },
  (input: ConfirmationInput) => {
    renderEmail(input)
    return new WorkflowResponse(sendEmail(input))
  }
)
