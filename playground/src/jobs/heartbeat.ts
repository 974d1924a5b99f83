import { MedusaContainer } from "@medusajs/framework/types"
import { storeHeartbeatWorkflow } from "../workflows/store-heartbeat"

/** A scheduled job that leaves a stored execution at every tick. */
export default async function heartbeat(
  container: MedusaContainer,
  context?: { scheduledFor: Date }
): Promise<void> {
  const scheduledFor = context?.scheduledFor ?? new Date()
  await storeHeartbeatWorkflow(container).run({
    input: { scheduled_for: scheduledFor.toISOString() },
  })
}

export const config = {
  name: "store-heartbeat",
  schedule: { interval: 20_000 },
}
