import { defineWidgetConfig } from "@medusajs/admin-sdk"
import { Container, Heading } from "@medusajs/ui"
import { BulkActionForm } from "../components/bulk-action-form"

/** Settings → Workflows, below the list: retry or cancel many runs at once. */
const BulkActionWidget = () => (
  <Container className="divide-y p-0" aria-labelledby="bulk-action-heading">
    <div className="px-6 py-4">
      <Heading level="h2" id="bulk-action-heading">
        Bulk action
      </Heading>
    </div>
    <div className="px-6 py-4">
      <BulkActionForm />
    </div>
  </Container>
)

export const config = defineWidgetConfig({
  zone: "workflow.list.after",
  id: "workflow-engine-postgres:bulk-action",
})

export default BulkActionWidget
