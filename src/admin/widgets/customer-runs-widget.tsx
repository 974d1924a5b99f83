import { defineWidgetConfig } from "@medusajs/admin-sdk"
import type { DetailWidgetProps, HttpTypes } from "@medusajs/framework/types"
import { ResourceRuns } from "../components/resource-runs"

/** A customer's page, below Medusa's sections: the workflow runs about this customer. */
const CustomerRunsWidget = ({
  data: customer,
}: DetailWidgetProps<HttpTypes.AdminCustomer>) => (
  <ResourceRuns resourceId={customer.id} noun="customer" />
)

export const config = defineWidgetConfig({
  zone: "customer.details.after",
  id: "workflow-engine-postgres:customer-runs",
})

export default CustomerRunsWidget
