import { ExecArgs, IWorkflowEngineService } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import {
  completeCartWorkflowId,
  createCartWorkflow,
  createCustomersWorkflow,
  createPaymentCollectionForCartWorkflow,
  createPaymentSessionsWorkflow,
  createProductsWorkflow,
  createRegionsWorkflow,
} from "@medusajs/medusa/core-flows"

/** The commerce objects the demo's own workflows are about. */
export type DemoOrder = {
  order_id: string
  customer_id: string
  payment_id: string
  product_id: string
  variant_id: string
  sku: string
}

const CUSTOMER_EMAIL = "ada@example.com"
const SKU = "WEP-TEE-M"
const SYSTEM_PAYMENT_PROVIDER = "pp_system_default"

/**
 * A region, a product, a customer and an order placed by completing a cart,
 * each made by Medusa's own workflows. Cart completion runs as the store
 * API's route runs it (`POST /store/carts/:id/complete` calls the engine's
 * run of complete-cart), so Medusa's stored run of it shows in the admin.
 * A database that already has the demo customer's order keeps it.
 */
export async function placeDemoOrder(
  container: ExecArgs["container"]
): Promise<DemoOrder> {
  const existing = await findDemoOrder(container)
  if (existing) {
    return existing
  }

  const [store] = await container.resolve(Modules.STORE).listStores()
  const salesChannelId = store?.default_sales_channel_id
  if (!salesChannelId) {
    throw new Error("The store has no default sales channel to sell in")
  }

  const {
    result: [region],
  } = await createRegionsWorkflow(container).run({
    input: {
      regions: [
        {
          name: "Europe",
          currency_code: "eur",
          countries: ["de", "fr", "nl"],
          payment_providers: [SYSTEM_PAYMENT_PROVIDER],
        },
      ],
    },
  })

  // No inventory to manage and no shipping profile: the order needs no
  // stock location, fulfillment set or shipping method to be placed.
  const {
    result: [product],
  } = await createProductsWorkflow(container).run({
    input: {
      products: [
        {
          title: "Workflow Engine T-shirt",
          handle: "workflow-engine-t-shirt",
          status: "published",
          options: [{ title: "Size", values: ["M"] }],
          variants: [
            {
              title: "M",
              sku: SKU,
              manage_inventory: false,
              options: { Size: "M" },
              prices: [{ currency_code: "eur", amount: 25 }],
            },
          ],
          sales_channels: [{ id: salesChannelId }],
        },
      ],
    },
  })

  const {
    result: [customer],
  } = await createCustomersWorkflow(container).run({
    input: {
      customersData: [
        {
          email: CUSTOMER_EMAIL,
          first_name: "Ada",
          last_name: "Lovelace",
        },
      ],
    },
  })

  const address = {
    first_name: "Ada",
    last_name: "Lovelace",
    address_1: "Keizersgracht 1",
    city: "Amsterdam",
    postal_code: "1015 CJ",
    country_code: "nl",
  }
  const { result: cart } = await createCartWorkflow(container).run({
    input: {
      region_id: region.id,
      sales_channel_id: salesChannelId,
      customer_id: customer.id,
      email: CUSTOMER_EMAIL,
      shipping_address: address,
      billing_address: address,
      items: [{ variant_id: product.variants[0].id, quantity: 2 }],
    },
  })

  await createPaymentCollectionForCartWorkflow(container).run({
    input: { cart_id: cart.id },
  })
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const {
    data: [withCollection],
  } = await query.graph({
    entity: "cart",
    fields: ["payment_collection.id"],
    filters: { id: cart.id },
  })
  await createPaymentSessionsWorkflow(container).run({
    input: {
      payment_collection_id: withCollection.payment_collection!.id,
      provider_id: SYSTEM_PAYMENT_PROVIDER,
      customer_id: customer.id,
    },
  })

  const engine = container.resolve<IWorkflowEngineService>(
    Modules.WORKFLOW_ENGINE
  )
  await engine.run(completeCartWorkflowId, {
    input: { id: cart.id },
    throwOnError: true,
  })

  const placed = await findDemoOrder(container)
  if (!placed) {
    throw new Error(`Completing cart ${cart.id} placed no order`)
  }
  return placed
}

async function findDemoOrder(
  container: ExecArgs["container"]
): Promise<DemoOrder | undefined> {
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const {
    data: [order],
  } = await query.graph({
    entity: "order",
    fields: [
      "id",
      "customer_id",
      "items.variant_id",
      "items.product_id",
      "items.variant_sku",
      "payment_collections.payments.id",
    ],
    filters: { email: CUSTOMER_EMAIL },
  })
  const item = order?.items?.[0]
  const payment = order?.payment_collections?.[0]?.payments?.[0]
  if (!order || !item || !payment) {
    return undefined
  }
  return {
    order_id: order.id,
    customer_id: order.customer_id!,
    payment_id: payment.id,
    product_id: item.product_id!,
    variant_id: item.variant_id!,
    sku: item.variant_sku ?? SKU,
  }
}
