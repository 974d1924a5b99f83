import { ExecArgs, IWorkflowEngineService } from "@medusajs/framework/types"
import {
  ContainerRegistrationKeys,
  Modules,
  TransactionHandlerType,
} from "@medusajs/framework/utils"
import { createUserAccountWorkflow } from "@medusajs/medusa/core-flows"
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
 * `medusa exec` script of `npm run demo`: the admin user, then executions of
 * every kind. Runs once per database: a database that already holds the
 * seeded workflows is left as it is.
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

  // The purge's first pass is an interval (an hour in medusa-config.ts) after
  // the schedule is first registered, so the expired runs below stay to be seen.
  for (const [index, outcome] of SYNC_OUTCOMES.entries()) {
    await syncInventoryWorkflow(container).run({
      input: { sku: `SKU-${100 + index}`, quantity: index + 1, outcome },
      context: { transactionId: `sync-SKU-${100 + index}` },
      throwOnError: false,
    })
  }

  for (const order_id of CONFIRMED_ORDERS) {
    await sendOrderConfirmationWorkflow(container).run({
      input: { order_id },
      context: { transactionId: `confirm-${order_id}` },
    })
  }

  for (const { payment_id, captured } of PAYMENTS) {
    const transactionId = `capture-${payment_id}`
    // Through the engine's service: the call returns once the async step's
    // handler is noted, so that this script's exit (medusa exec ends with
    // process.exit()) leaves the run waiting (docs/multi-instance.md).
    await engine.run(CAPTURE_PAYMENT, { input: { payment_id }, transactionId })
    if (captured) {
      await engine.setStepSuccess({
        idempotencyKey: {
          action: TransactionHandlerType.INVOKE,
          stepId: WAIT_FOR_CAPTURE,
          workflowId: CAPTURE_PAYMENT,
          transactionId,
        },
        stepResponse: { captured: payment_id },
      })
    }
  }

  await engine.run(BOOK_SHIPMENT, {
    input: { order_id: SHIPMENT_AWAITING_RETRY },
    transactionId: `ship-${SHIPMENT_AWAITING_RETRY}`,
  })

  logger.info(
    `Seeded ${SYNC_OUTCOMES.length} sync-inventory runs (done, reverted, failed), ` +
      `${CONFIRMED_ORDERS.length} send-order-confirmation runs (kept 1 s, so expired), ` +
      `${PAYMENTS.length} capture-payment runs (one waiting on its async step), ` +
      `a book-shipment run whose courier booking waits to be retried.`
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
