import { defineWidgetConfig } from "@medusajs/admin-sdk"
import { Badge, Container, Heading, Text } from "@medusajs/ui"
import { useState } from "react"
import { Link, useLocation, useSearchParams } from "react-router-dom"
import { ExecutionRunsTable } from "../components/execution-runs-table"
import { QueryState } from "../components/query-state"
import { ExecutionsQuery, useExecutions } from "../hooks/executions"

const PAGE_SIZE = 20
/** The URL parameters this widget reads; Medusa's list below forwards only its own. */
const OWN_PARAMS = ["resource_id", "stuck"]

/**
 * Settings → Workflows, above the list, when the URL asks for runs Medusa's
 * list cannot filter by: `?resource_id=order_…` (repeatable: any of them)
 * and `?stuck=true`. Shows those runs with the filter as chips and a link
 * that clears it; without such a parameter it renders nothing.
 */
const FilteredRunsWidget = () => {
  const [params] = useSearchParams()
  const location = useLocation()
  const [offset, setOffset] = useState(0)
  const resourceIds = params.getAll("resource_id").filter(Boolean)
  const stuck = params.get("stuck") === "true"
  const filter: ExecutionsQuery = {
    ...(resourceIds.length ? { resource_id: resourceIds } : {}),
    ...(stuck ? { stuck: true } : {}),
  }
  const active = Object.keys(filter).length > 0
  const query = useExecutions(
    { ...filter, limit: PAGE_SIZE, offset },
    { enabled: active }
  )
  if (!active) {
    return null
  }

  const rest = new URLSearchParams(params)
  OWN_PARAMS.forEach((name) => rest.delete(name))
  const cleared = `${location.pathname}${rest.size ? `?${rest}` : ""}`
  const page = query.data

  return (
    <Container className="divide-y p-0" aria-labelledby="filtered-runs-heading">
      <div className="flex flex-wrap items-center justify-between gap-2 px-6 py-4">
        <div className="flex flex-col gap-y-1">
          <Heading level="h2" id="filtered-runs-heading">
            Filtered runs
          </Heading>
          <div
            className="flex flex-wrap items-center gap-1"
            aria-label="Active filters"
          >
            {resourceIds.map((id) => (
              <Badge key={id} size="2xsmall" color="blue">
                resource: {id}
              </Badge>
            ))}
            {stuck && (
              <Badge size="2xsmall" color="orange">
                stuck
              </Badge>
            )}
          </div>
        </div>
        <Link
          to={cleared}
          className="text-ui-fg-interactive hover:text-ui-fg-interactive-hover focus-visible:shadow-borders-focus txt-compact-small-plus rounded-sm outline-none"
        >
          Clear filter
        </Link>
      </div>
      <div className="px-6 py-4">
        {!page ? (
          <QueryState query={query} height="h-16" />
        ) : page.count === 0 ? (
          <Text size="small" className="text-ui-fg-subtle" role="status">
            No stored run matches this filter.
          </Text>
        ) : (
          <ExecutionRunsTable
            label="Filtered workflow runs"
            executions={page.workflow_executions}
            count={page.count}
            offset={offset}
            pageSize={PAGE_SIZE}
            onPage={setOffset}
          />
        )}
      </div>
    </Container>
  )
}

export const config = defineWidgetConfig({
  zone: "workflow.list.before",
  id: "workflow-engine-postgres:filtered-runs",
})

export default FilteredRunsWidget
