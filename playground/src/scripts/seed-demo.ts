import { ExecArgs, IWorkflowEngineService } from "@medusajs/framework/types"
import {
  ContainerRegistrationKeys,
  Modules,
  TransactionHandlerType,
} from "@medusajs/framework/utils"
import { createUserAccountWorkflow } from "@medusajs/medusa/core-flows"
import { placeDemoOrder } from "../seed/place-demo-order"
import { BOOK_SHIPMENT } from "../workflows/book-shipment"
import { CAPTURE_PAYMENT, WAIT_FOR_CAPTURE } from "../workflows/capture-payment"
import { sendOrderConfirmationWorkflow } from "../workflows/send-order-confirmation"
import {
  SYNC_INVENTORY,
  SyncOutcome,
  syncInventoryWorkflow,
} from "../workflows/sync-inventory"

const SYNC_OUTCOMES: SyncOutcome[] = [
  "done",
  "done",
  "reverted",
  "done",
  "failed",
  "done",
  "reverted",
  "done",
]
const CONFIRMED_ORDERS = [
  "order_1001",
  "order_1002",
  "order_1003",
  "order_1004",
]
const PAYMENTS = [
  { payment_id: "pay_2001", captured: true },
  { payment_id: "pay_2002", captured: true },
  { payment_id: "pay_2003", captured: false },
]
// Its courier booking waits for an answer the first request never gets: the admin's Retry step brings it.
const SHIPMENT_AWAITING_RETRY = "order_1005"

/**
 * `medusa exec` script of `npm run demo`: the admin user, an order placed
 * through Medusa's own workflows, then executions of every kind, some of
 * them about that order, its customer, payment and product. Runs once per
 * database: a database that already holds the seeded workflows is left as
 * it is.
 */
export default async function seedDemo({ container }: ExecArgs): Promise<void> {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  const engine = container.resolve<IWorkflowEngineService>(
    Modules.WORKFLOW_ENGINE
  )

  await ensureAdminUser(container)

  const [seeded] = await engine.listWorkflowExecutions(
    { workflow_id: SYNC_INVENTORY },
    { take: 1 }
  )
  if (seeded) {
    logger.info("The demo executions are already there; not seeding again.")
    return
  }

  const order = await placeDemoOrder(container)

  // The purge's first pass is an interval (an hour in medusa-config.ts) after
  // the schedule is first registered, so the expired runs below stay to be seen.
  for (const [index, outcome] of SYNC_OUTCOMES.entries()) {
    await syncInventoryWorkflow(container).run({
      input: { sku: `SKU-${100 + index}`, quantity: index + 1, outcome },
      context: { transactionId: `sync-SKU-${100 + index}` },
      throwOnError: false,
    })
  }

  await syncInventoryWorkflow(container).run({
    input: {
      sku: order.sku,
      quantity: 2,
      outcome: "done",
      variant_id: order.variant_id,
      product_id: order.product_id,
    },
    context: { transactionId: `sync-${order.sku}` },
  })

  await sendOrderConfirmationWorkflow(container).run({
    input: { order_id: order.order_id, customer_id: order.customer_id },
    context: { transactionId: `confirm-${order.order_id}` },
  })
  for (const order_id of CONFIRMED_ORDERS) {
    await sendOrderConfirmationWorkflow(container).run({
      input: { order_id },
      context: { transactionId: `confirm-${order_id}` },
    })
  }

  const captures = [
    ...PAYMENTS.map(({ payment_id, captured }) => ({
      input: { payment_id },
      captured,
    })),
    {
      input: { payment_id: order.payment_id, order_id: order.order_id },
      captured: true,
    },
  ]
  for (const { input, captured } of captures) {
    const transactionId = `capture-${input.payment_id}`
    // Through the engine's service: the call returns once the async step's
    // handler is noted, so that this script's exit (medusa exec ends with
    // process.exit()) leaves the run waiting (docs/multi-instance.md).
    await engine.run(CAPTURE_PAYMENT, { input, transactionId })
    if (captured) {
      // Its capture fails once and is retried by the server a few seconds on.
      await engine.setStepSuccess({
        idempotencyKey: {
          action: TransactionHandlerType.INVOKE,
          stepId: WAIT_FOR_CAPTURE,
          workflowId: CAPTURE_PAYMENT,
          transactionId,
        },
        stepResponse: { ready: input.payment_id },
      })
    }
  }

  for (const order_id of [SHIPMENT_AWAITING_RETRY, order.order_id]) {
    await engine.run(BOOK_SHIPMENT, {
      input: { order_id },
      transactionId: `ship-${order_id}`,
    })
  }

  logger.info(
    `Placed order ${order.order_id} for customer ${order.customer_id}; ` +
      `seeded ${SYNC_OUTCOMES.length + 1} sync-inventory runs (done, reverted, failed), ` +
      `${CONFIRMED_ORDERS.length + 1} send-order-confirmation runs (kept 1 s, so expired), ` +
      `${PAYMENTS.length + 1} capture-payment runs (one waiting on its async step, ` +
      `the others failing their first capture, retried by the server), two book-shipment runs whose courier booking waits to be retried.`
  )
}

/** The user the demo prints; DEMO_ADMIN_EMAIL and DEMO_ADMIN_PASSWORD come from the demo script. */
async function ensureAdminUser(
  container: ExecArgs["container"]
): Promise<void> {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  const email = requiredEnv("DEMO_ADMIN_EMAIL")
  const password = requiredEnv("DEMO_ADMIN_PASSWORD")

  const users = await container.resolve(Modules.USER).listUsers({ email })
  if (users.length) {
    logger.info(`The admin user ${email} is already there.`)
    return
  }
  const auth = container.resolve(Modules.AUTH)
  const { authIdentity, error } = await auth.register("emailpass", {
    body: { email, password },
  })
  if (error || !authIdentity) {
    throw new Error(
      `Could not register ${email}: ${error ?? "no auth identity"}`
    )
  }
  await createUserAccountWorkflow(container).run({
    input: { authIdentityId: authIdentity.id, userData: { email } },
  })
  logger.info(`Created the admin user ${email}.`)
}

function requiredEnv(name: string): string {
  const value = process.env[name]
  if (!value) {
    throw new Error(
      `${name} is not set: run the seed through \`npm run demo\`.`
    )
  }
  return value
}
