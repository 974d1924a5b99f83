import { Button, StatusBadge, Table, Text } from "@medusajs/ui"
import { Link } from "react-router-dom"
import type { ListedExecution } from "../hooks/executions"
import { formatCount, formatDate } from "../lib/format"
import { stateColor, stateLabel } from "../lib/states"

/**
 * Workflow runs as rows, newest first: the workflow (a link to the run's
 * page in Settings → Workflows), its state (failed and stuck ones stand
 * out), when it started and last moved; paged with Previous / Next.
 */
export const ExecutionRunsTable = ({
  label,
  executions,
  count,
  offset,
  pageSize,
  onPage,
}: {
  /** What the table lists, for screen readers ("Workflow runs of order_…"). */
  label: string
  executions: ListedExecution[]
  count: number
  offset: number
  pageSize: number
  onPage: (offset: number) => void
}) => {
  const last = Math.min(offset + executions.length, count)
  return (
    <div className="flex flex-col gap-y-2">
      <Table aria-label={label}>
        <Table.Header>
          <Table.Row>
            <Table.HeaderCell>Workflow</Table.HeaderCell>
            <Table.HeaderCell>State</Table.HeaderCell>
            <Table.HeaderCell>Started</Table.HeaderCell>
            <Table.HeaderCell>Last moved</Table.HeaderCell>
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {executions.map((execution) => (
            <Table.Row key={execution.id}>
              <Table.Cell>
                <Link
                  to={`/settings/workflows/${encodeURIComponent(execution.id)}`}
                  className="text-ui-fg-interactive hover:text-ui-fg-interactive-hover focus-visible:shadow-borders-focus rounded-sm outline-none"
                >
                  {execution.workflow_id}
                </Link>
              </Table.Cell>
              <Table.Cell>
                <div className="flex items-center gap-x-1">
                  <StatusBadge color={stateColor(execution.state)}>
                    {stateLabel(execution.state)}
                  </StatusBadge>
                  {execution.stuck && (
                    <StatusBadge color="orange">Stuck</StatusBadge>
                  )}
                </div>
              </Table.Cell>
              <Table.Cell>{formatDate(execution.created_at)}</Table.Cell>
              <Table.Cell>{formatDate(execution.updated_at)}</Table.Cell>
            </Table.Row>
          ))}
        </Table.Body>
      </Table>
      {count > pageSize && (
        <div className="flex items-center justify-between gap-x-2">
          <Text size="small" className="text-ui-fg-subtle">
            {formatCount(offset + 1)}–{formatCount(last)} of{" "}
            {formatCount(count)}
          </Text>
          <div className="flex gap-x-2">
            <Button
              size="small"
              variant="secondary"
              disabled={offset === 0}
              onClick={() => onPage(Math.max(0, offset - pageSize))}
            >
              Previous
            </Button>
            <Button
              size="small"
              variant="secondary"
              disabled={last >= count}
              onClick={() => onPage(offset + pageSize)}
            >
              Next
            </Button>
          </div>
        </div>
      )}
    </div>
  )
}
