import { Badge, Table, Text } from "@medusajs/ui"
import type { ExecutionStorage } from "../hooks/execution-storage"
import { formatCount, formatDate, formatMs } from "../lib/format"

/** The latest purge passes and erasures, from the audit trail. */
export const PurgeHistory = ({
  purges,
}: {
  purges: ExecutionStorage["last_purges"]
}) => {
  if (!purges.length) {
    return (
      <Text size="small" className="text-ui-fg-subtle">
        No purge has run yet.
      </Text>
    )
  }
  return (
    <Table aria-label="Last purges">
      <Table.Header>
        <Table.Row>
          <Table.HeaderCell>When</Table.HeaderCell>
          <Table.HeaderCell>Trigger</Table.HeaderCell>
          <Table.HeaderCell>Deleted</Table.HeaderCell>
          <Table.HeaderCell>Took</Table.HeaderCell>
        </Table.Row>
      </Table.Header>
      <Table.Body>
        {purges.map((purge) => (
          <Table.Row key={purge.id}>
            <Table.Cell>{formatDate(purge.started_at)}</Table.Cell>
            <Table.Cell>
              <div className="flex items-center gap-x-1">
                <Badge size="2xsmall">{purge.trigger}</Badge>
                {purge.dry_run && (
                  <Badge size="2xsmall" color="blue">
                    preview
                  </Badge>
                )}
                {purge.error && (
                  <Badge size="2xsmall" color="red" title={purge.error}>
                    failed
                  </Badge>
                )}
              </div>
            </Table.Cell>
            <Table.Cell>
              {purge.dry_run
                ? `${formatCount(purge.deleted)} would be`
                : formatCount(purge.deleted)}
            </Table.Cell>
            <Table.Cell>{formatMs(purge.duration_ms)}</Table.Cell>
          </Table.Row>
        ))}
      </Table.Body>
    </Table>
  )
}
