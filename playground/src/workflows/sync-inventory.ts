import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"

export const SYNC_INVENTORY = "sync-inventory"

/** How a run ends: the seed asks for each kind the admin can show. */
export type SyncOutcome = "done" | "reverted" | "failed"

export type SyncInventoryInput = {
  sku: string
  quantity: number
  outcome: SyncOutcome
  /** The store's variant and product of that SKU, when it sells it. */
  variant_id?: string
  product_id?: string
}

const readStock = createStep(
  "read-stock",
  async (input: SyncInventoryInput) => {
    return new StepResponse({ sku: input.sku, on_hand: input.quantity * 3 })
  }
)

const reserveStock = createStep(
  "reserve-stock",
  async (input: SyncInventoryInput) => {
    return new StepResponse({ reserved: input.quantity }, input)
  },
  async (input) => {
    // A compensation that fails leaves the run "failed" rather than "reverted".
    if (input?.outcome === "failed") {
      throw new Error(
        `The warehouse did not release the reservation of ${input.sku}`
      )
    }
  }
)

const publishStock = createStep(
  "publish-stock",
  async (input: SyncInventoryInput) => {
    if (input.outcome !== "done") {
      throw new Error(
        `The storefront rejected the stock update of ${input.sku}`
      )
    }
    return new StepResponse({ published: true })
  }
)

/** A stored workflow kept for a week: done, reverted or failed by its input. */
export const syncInventoryWorkflow = createWorkflow(
  { name: SYNC_INVENTORY, store: true, retentionTime: 7 * 24 * 60 * 60 },
  (input: SyncInventoryInput) => {
    const stock = readStock(input)
    reserveStock(input)
    publishStock(input)
    return new WorkflowResponse(stock)
  }
)
