import { Text, Tooltip, clx } from "@medusajs/ui"
import type { ExecutionStorage } from "../hooks/execution-storage"
import { formatBytes, formatCount } from "../lib/format"
import { STATE_BAR_CLASS, stateColor, stateLabel } from "../lib/states"

type Props = { storage: ExecutionStorage }

// Inline, like the bars' widths: the admin's Tailwind build only has the classes it finds.
const NAME_COLUMN = "30%"

/**
 * Executions per workflow as horizontal bars split by state, longest bar =
 * the busiest workflow. Plain CSS in Medusa's ui colour tokens, so it follows
 * the admin's theme; every figure is also in the text, for screen readers.
 */
export const StorageChart = ({ storage }: Props) => {
  const busiest = Math.max(
    1,
    ...storage.workflows.map((workflow) => workflow.executions)
  )
  const states = [...new Set(storage.groups.map((group) => group.state))].sort()

  if (!storage.workflows.length) {
    return (
      <Text size="small" className="text-ui-fg-subtle">
        No executions are stored.
      </Text>
    )
  }

  return (
    <div className="flex flex-col gap-y-3">
      <ul
        className="flex flex-col gap-y-2"
        aria-label="Executions per workflow and state"
      >
        {storage.workflows.map((workflow) => {
          const groups = storage.groups.filter(
            (group) => group.workflow_id === workflow.workflow_id
          )
          const summary = groups.map(
            (group) =>
              `${formatCount(group.executions)} ${stateLabel(group.state).toLowerCase()}`
          )
          return (
            <li
              key={workflow.workflow_id}
              className="flex items-center gap-x-3"
            >
              <Text
                size="small"
                leading="compact"
                weight="plus"
                className="shrink-0 truncate"
                style={{ width: NAME_COLUMN }}
                title={workflow.workflow_id}
              >
                {workflow.workflow_id}
              </Text>
              <div
                className="bg-ui-bg-subtle flex h-2 flex-1 overflow-hidden rounded-full"
                role="img"
                aria-label={`${workflow.workflow_id}: ${summary.join(", ")}`}
              >
                <div
                  className="flex h-full"
                  style={{ width: `${(workflow.executions / busiest) * 100}%` }}
                >
                  {groups.map((group) => (
                    <Tooltip
                      key={group.state}
                      content={`${stateLabel(group.state)}: ${formatCount(group.executions)}`}
                    >
                      <div
                        className={clx(
                          "h-full",
                          STATE_BAR_CLASS[stateColor(group.state)]
                        )}
                        style={{
                          width: `${(group.executions / workflow.executions) * 100}%`,
                        }}
                      />
                    </Tooltip>
                  ))}
                </div>
              </div>
              <Text
                size="small"
                leading="compact"
                className="text-ui-fg-subtle whitespace-nowrap text-right"
              >
                {formatCount(workflow.executions)} ·{" "}
                {formatBytes(workflow.estimated_bytes)}
              </Text>
            </li>
          )
        })}
      </ul>
      <div className="flex flex-wrap gap-x-4 gap-y-1" aria-hidden="true">
        {states.map((state) => (
          <div key={state} className="flex items-center gap-x-1.5">
            <span
              className={clx(
                "h-2 w-2 rounded-full",
                STATE_BAR_CLASS[stateColor(state)]
              )}
            />
            <Text size="xsmall" leading="compact" className="text-ui-fg-subtle">
              {stateLabel(state)}
            </Text>
          </div>
        ))}
      </div>
    </div>
  )
}
