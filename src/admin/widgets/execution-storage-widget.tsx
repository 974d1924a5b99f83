import { defineWidgetConfig } from "@medusajs/admin-sdk"
import { Container, Heading, Text } from "@medusajs/ui"
import { Link } from "react-router-dom"
import { Figure } from "../components/figure"
import { PendingUpgradeNotice } from "../components/pending-upgrade-notice"
import { PurgeActions } from "../components/purge-actions"
import { PurgeHistory } from "../components/purge-history"
import { QueryState } from "../components/query-state"
import { StorageChart } from "../components/storage-chart"
import {
  ExecutionStorage,
  useExecutionStorage,
} from "../hooks/execution-storage"
import {
  formatBytes,
  formatCount,
  formatDate,
  formatSeconds,
} from "../lib/format"

/** Settings → Workflows, above the list: what is stored, what it costs, and the purge. */
const ExecutionStorageWidget = () => {
  const query = useExecutionStorage()
  const storage = query.data

  return (
    <Container
      className="divide-y p-0"
      aria-labelledby="execution-storage-heading"
    >
      <div className="flex flex-wrap items-center justify-between gap-2 px-6 py-4">
        <div>
          <Heading level="h2" id="execution-storage-heading">
            Execution storage
          </Heading>
          <Text size="small" className="text-ui-fg-subtle">
            What workflow_execution holds, and what the purge removes.
          </Text>
        </div>
        <PurgeActions />
      </div>
      {!storage && (
        <div className="px-6 py-4">
          <QueryState query={query} height="h-20" />
        </div>
      )}
      {storage && <StorageFigures storage={storage} />}
    </Container>
  )
}

const StorageFigures = ({ storage }: { storage: ExecutionStorage }) => {
  const { retention, sizes } = storage
  return (
    <>
      {storage.upgrade && (
        <div className="px-6 py-4">
          <PendingUpgradeNotice upgrade={storage.upgrade} />
        </div>
      )}
      <div className="grid grid-cols-2 gap-4 px-6 py-4 md:grid-cols-3">
        <Figure label="Executions">
          {formatCount(storage.total_executions)}
        </Figure>
        <Figure
          label="On disk"
          hint={`table ${formatBytes(sizes.table_bytes)} · JSON aside ${formatBytes(sizes.toast_bytes)}`}
        >
          {formatBytes(sizes.total_bytes)}
        </Figure>
        <Figure label="Indexes">{formatBytes(sizes.index_bytes)}</Figure>
        <Figure label="Oldest execution">
          {formatDate(storage.oldest_execution_at)}
        </Figure>
        <Figure label="Expired, awaiting purge">
          {storage.expired.capped ? "at least " : ""}
          {formatCount(storage.expired.executions)}
        </Figure>
        <Figure label="Kept forever" hint="finished, no retention">
          {formatCount(storage.kept_forever)}
        </Figure>
        <Figure
          label="Stuck"
          hint={
            storage.events.given_up
              ? `${formatCount(storage.events.given_up)} events the event bus refused`
              : "in flight, not moving"
          }
        >
          {storage.stuck ? (
            <Link
              to="/settings/workflows?stuck=true"
              className="text-ui-fg-interactive hover:text-ui-fg-interactive-hover"
            >
              {formatCount(storage.stuck)}
            </Link>
          ) : (
            formatCount(storage.stuck)
          )}
        </Figure>
        <Figure
          label="Kept by someone"
          hint={`${formatCount(storage.kept.expired)} past their own expiry`}
        >
          {formatCount(storage.kept.executions)}
        </Figure>
      </div>
      <div className="flex flex-col gap-y-2 px-6 py-4">
        <Heading level="h3">Executions per workflow</Heading>
        <StorageChart storage={storage} />
      </div>
      <div className="flex flex-col gap-y-1 px-6 py-4">
        <Heading level="h3">Retention in force</Heading>
        <Text size="small" className="text-ui-fg-subtle">
          {retention.default_retention_seconds === null
            ? "Finished runs of workflows without retentionTime are removed when they finish."
            : `Finished runs of workflows without retentionTime are kept ${formatSeconds(retention.default_retention_seconds)}.`}
          {Object.entries(retention.retention_seconds_by_state).map(
            ([state, seconds]) =>
              ` ${state[0].toUpperCase()}${state.slice(1)} runs are kept at least ${formatSeconds(seconds as number)}.`
          )}
          {retention.purge_interval_seconds === 0
            ? " The scheduled purge is off."
            : ` The purge runs every ${formatSeconds(retention.purge_interval_seconds)}, ${formatCount(retention.purge_batch_size)} rows per batch at most.`}
        </Text>
      </div>
      <div className="flex flex-col gap-y-2 px-6 py-4">
        <Heading level="h3">Last purges</Heading>
        <PurgeHistory purges={storage.last_purges} />
      </div>
    </>
  )
}

export const config = defineWidgetConfig({
  zone: "workflow.list.before",
  id: "workflow-engine-postgres:execution-storage",
})

export default ExecutionStorageWidget
