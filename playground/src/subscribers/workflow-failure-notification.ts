import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"

/**
 * What the workflow engine's events carry (README, "Events"). A store can
 * import this type and the events' names from
 * `medusa-workflow-engine-postgres/modules/workflow-engine/events`; the demo
 * spells them out so that it type-checks before the plugin is packed into it.
 */
type WorkflowExecutionEvent = {
  event_id: string
  id: string
  workflow_id: string
  transaction_id: string
  run_id: string
  state: string
  step_id: string | null
  error_message: string | null
  resource_ids: string[]
}

const WHAT_HAPPENED: Record<string, string> = {
  "workflow_execution.failed": "failed",
  "workflow_execution.reverted": "reverted",
  "workflow_execution.step_awaiting_retry": "waits for a retry",
  "workflow_execution.stuck": "is stuck",
}

/**
 * How the demo store hears about a workflow that went wrong: a notification
 * in the admin's bell (the Notification Module's local provider, channel
 * `feed`), such as "sync-inventory failed" over "publish-stock: The storefront
 * rejected …". The bell renders a notification's `data.title` and
 * `data.description` as text and offers no link of its own (its only anchor,
 * `data.file.url`, downloads), so the description ends with the path of the
 * run's page in the admin.
 */
export default async function workflowFailureNotification({
  event: { name, data },
  container,
}: SubscriberArgs<WorkflowExecutionEvent>): Promise<void> {
  const adminPath =
    container.resolve(ContainerRegistrationKeys.CONFIG_MODULE).admin?.path ??
    "/app"
  const where = [data.step_id, data.error_message].filter(Boolean).join(": ")
  await container.resolve(Modules.NOTIFICATION).createNotifications({
    // An empty `to` is for every admin user: the bell lists the logged-in
    // user's id, email and "".
    to: "",
    channel: "feed",
    template: name,
    trigger_type: name,
    resource_type: "workflow_execution",
    resource_id: data.id,
    // Should an event be delivered twice (docs/events.md), the bell still shows it once.
    idempotency_key: data.event_id,
    data: {
      title: `${data.workflow_id} ${WHAT_HAPPENED[name] ?? name}`,
      description: [
        where || `Transaction ${data.transaction_id}`,
        `Open the run: ${adminPath}/settings/workflows/${data.id}`,
      ].join("\n"),
    },
  })
}

export const config: SubscriberConfig = {
  event: Object.keys(WHAT_HAPPENED),
}
