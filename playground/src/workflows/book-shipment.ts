import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"

export const BOOK_SHIPMENT = "book-shipment"
export const BOOK_COURIER = "book-courier"

type ShipmentInput = { order_id: string }

const packParcel = createStep("pack-parcel", async (input: ShipmentInput) => {
  return new StepResponse({ packed: input.order_id })
})

// An async step: it asks the courier for a pickup and waits for the courier's
// callback. The demo's courier never answers a first request; asked again
// (Retry step in the admin), it answers at once.
const bookCourier = createStep(
  { name: BOOK_COURIER, async: true },
  async (input: ShipmentInput, { metadata }) => {
    if (metadata.attempt > 1) {
      return new StepResponse({ pickup: `pickup-${input.order_id}` })
    }
  }
)

const emailTrackingNumber = createStep(
  "email-tracking-number",
  async (input: { pickup: string }) => {
    return new StepResponse({ emailed: input.pickup })
  }
)

/** A long-running workflow whose courier booking waits for an answer that a retry brings. */
export const bookShipmentWorkflow = createWorkflow(
  { name: BOOK_SHIPMENT, store: true, retentionTime: 7 * 24 * 60 * 60 },
  (input: ShipmentInput) => {
    packParcel(input)
    const booked = bookCourier(input)
    return new WorkflowResponse(emailTrackingNumber(booked))
  }
)
