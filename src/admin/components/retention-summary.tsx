import { Badge, Text } from "@medusajs/ui"
import type { ExecutionRetention } from "../hooks/execution-retention"
import { formatDate, formatSeconds } from "../lib/format"

const SOURCES: Record<string, string> = {
  workflow: "the workflow's retentionTime",
  default_retention_time: "the module option defaultRetentionTime",
  retention_time_by_state: "the module option retentionTimeByState",
  options_changed:
    "the options in force when it finished (they have changed since)",
}

/** When this execution goes, and which setting says so. */
export const RetentionSummary = ({
  retention,
}: {
  retention: ExecutionRetention
}) => {
  if (!retention.finished) {
    const outcomes = Object.entries(retention.on_finish ?? {})
    return (
      <div className="flex flex-col gap-y-1">
        <Text size="small" leading="compact" weight="plus">
          Not purged while in flight.
        </Text>
        {outcomes.map(([state, decision]) => (
          <Text key={state} size="small" className="text-ui-fg-subtle">
            {decision
              ? `If it ends ${state}: kept ${formatSeconds(decision.seconds)}, by ${SOURCES[decision.source]}.`
              : `If it ends ${state}: removed when it finishes (no retention applies).`}
          </Text>
        ))}
      </div>
    )
  }
  if (retention.kept) {
    return (
      <div className="flex flex-col gap-y-1">
        <div className="flex items-center gap-x-2">
          <Text size="small" leading="compact" weight="plus">
            Kept from the purge
          </Text>
          <Badge size="2xsmall" color="blue">
            kept
          </Badge>
        </div>
        <Text size="small" className="text-ui-fg-subtle">
          {retention.expires_at
            ? `Its own expiry (${formatDate(retention.expires_at)}) applies again once nobody keeps it.`
            : "It had no expiry of its own: once nobody keeps it, no purge deletes it either."}
        </Text>
      </div>
    )
  }
  if (retention.kept_forever) {
    return (
      <div className="flex flex-col gap-y-1">
        <div className="flex items-center gap-x-2">
          <Text size="small" leading="compact" weight="plus">
            Kept forever
          </Text>
          <Badge size="2xsmall" color="orange">
            no retention
          </Badge>
        </div>
        <Text size="small" className="text-ui-fg-subtle">
          No retention applied when it finished, so no purge deletes it; only an
          erase does.
        </Text>
      </div>
    )
  }
  return (
    <div className="flex flex-col gap-y-1">
      <div className="flex items-center gap-x-2">
        <Text size="small" leading="compact" weight="plus">
          {retention.expired
            ? `Expired ${formatDate(retention.expires_at)}`
            : `Purged after ${formatDate(retention.expires_at)}`}
        </Text>
        {retention.expired && (
          <Badge size="2xsmall" color="red">
            awaiting purge
          </Badge>
        )}
      </div>
      <Text size="small" className="text-ui-fg-subtle">
        {retention.retention_seconds !== null &&
          `Kept ${formatSeconds(retention.retention_seconds)} after it finished, by ${SOURCES[retention.source ?? "workflow"]}. `}
        {retention.purge_interval_seconds === 0
          ? "The scheduled purge is off; a purge from the storage card deletes it."
          : `The scheduled purge runs every ${formatSeconds(retention.purge_interval_seconds)}.`}
      </Text>
    </div>
  )
}
