import { defineWidgetConfig } from "@medusajs/admin-sdk"
import type { DetailWidgetProps, HttpTypes } from "@medusajs/framework/types"
import { ResourceRuns } from "../components/resource-runs"

/** An order's page, below Medusa's sections: the workflow runs about this order. */
const OrderRunsWidget = ({
  data: order,
}: DetailWidgetProps<HttpTypes.AdminOrder>) => (
  <ResourceRuns resourceId={order.id} noun="order" />
)

export const config = defineWidgetConfig({
  zone: "order.details.after",
  id: "workflow-engine-postgres:order-runs",
})

export default OrderRunsWidget
