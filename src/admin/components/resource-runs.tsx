import { Container, Heading, Text } from "@medusajs/ui"
import { useState } from "react"
import { useExecutions } from "../hooks/executions"
import { ExecutionRunsTable } from "./execution-runs-table"
import { QueryState } from "./query-state"

const PAGE_SIZE = 10

/**
 * "Workflow runs" of one commerce object (an order, a customer): the stored
 * runs whose input named its id, newest first, or what a store owner should
 * know when there are none.
 */
export const ResourceRuns = ({
  resourceId,
  noun,
}: {
  resourceId: string
  /** "order", "customer": how the empty state names the object. */
  noun: string
}) => {
  const [offset, setOffset] = useState(0)
  const query = useExecutions({
    resource_id: resourceId,
    limit: PAGE_SIZE,
    offset,
  })
  const page = query.data
  const headingId = `workflow-runs-heading-${resourceId}`

  return (
    <Container className="divide-y p-0" aria-labelledby={headingId}>
      <div className="px-6 py-4">
        <Heading level="h2" id={headingId}>
          Workflow runs
        </Heading>
        <Text size="small" className="text-ui-fg-subtle">
          Stored workflow runs whose input names this {noun}, newest first.
        </Text>
      </div>
      <div className="px-6 py-4">
        {!page ? (
          <QueryState query={query} height="h-16" />
        ) : page.count === 0 ? (
          <div role="status">
            <Text size="small" weight="plus">
              No workflow runs for this {noun}
            </Text>
            <Text size="small" className="text-ui-fg-subtle">
              Runs appear here when a stored workflow (one defined with store:
              true, or a long-running one such as cart completion) runs with
              this {noun}'s id in its input. Workflows that are not stored leave
              no run to show.
            </Text>
          </div>
        ) : (
          <ExecutionRunsTable
            label={`Workflow runs of ${noun} ${resourceId}`}
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
