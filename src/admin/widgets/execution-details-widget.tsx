import { defineWidgetConfig } from "@medusajs/admin-sdk"
import type { DetailWidgetProps, HttpTypes } from "@medusajs/framework/types"
import { Container, Heading, Text } from "@medusajs/ui"
import { ExecutionActions } from "../components/execution-actions"
import { KeepControl } from "../components/keep-control"
import { QueryState } from "../components/query-state"
import { RetentionSummary } from "../components/retention-summary"
import { StepTimeline } from "../components/step-timeline"
import { useExecutionRetention } from "../hooks/execution-retention"

/** An execution's page, below Medusa's sections: its steps over time, when it goes, and what can be done. */
const ExecutionDetailsWidget = ({
  data: execution,
}: DetailWidgetProps<HttpTypes.AdminWorkflowExecution>) => {
  const query = useExecutionRetention(execution.id)
  const retention = query.data

  return (
    <div className="flex flex-col gap-y-3">
      <Container
        className="divide-y p-0"
        aria-labelledby="execution-timeline-heading"
      >
        <div className="px-6 py-4">
          <Heading level="h2" id="execution-timeline-heading">
            Step timeline
          </Heading>
          <Text size="small" className="text-ui-fg-subtle">
            When each step started and how long it ran. "≤" marks runs stored
            without an end time per step: the time until the step after it
            started.
          </Text>
        </div>
        <div className="px-6 py-4">
          <StepTimeline execution={execution} />
        </div>
      </Container>
      <Container
        className="divide-y p-0"
        aria-labelledby="execution-retention-heading"
      >
        <div className="px-6 py-4">
          <Heading level="h2" id="execution-retention-heading">
            Retention
          </Heading>
        </div>
        <div className="px-6 py-4">
          {retention ? (
            <RetentionSummary retention={retention} />
          ) : (
            <QueryState query={query} height="h-10" />
          )}
        </div>
        {retention && (
          <div className="px-6 py-4">
            <ExecutionActions execution={execution} retention={retention} />
          </div>
        )}
        {retention?.finished && (
          <div className="px-6 py-4">
            <KeepControl retention={retention} />
          </div>
        )}
      </Container>
    </div>
  )
}

export const config = defineWidgetConfig({
  zone: "workflow.details.after",
  id: "workflow-engine-postgres:execution-details",
})

export default ExecutionDetailsWidget
