import type { HttpTypes } from "@medusajs/framework/types"
import { ArrowPath } from "@medusajs/icons"
import {
  Badge,
  Button,
  StatusBadge,
  Text,
  toast,
  clx,
  usePrompt,
} from "@medusajs/ui"
import { WAITING_RESPONSE } from "../../api/admin/workflow-engine/step-retry"
import { useRetryStep } from "../hooks/retry-step"
import { useWorkflowStepResponse } from "../hooks/workflow-step-response"
import { formatMs } from "../lib/format"
import { STATE_BAR_CLASS, stateColor, stateLabel } from "../lib/states"
import { timelineOf, TimelineStep } from "../lib/timeline"

/** The execution's steps in the order they started, with state and how long each ran at most. */
export const StepTimeline = ({
  execution,
}: {
  execution: HttpTypes.AdminWorkflowExecution
}) => {
  const { steps, spanMs } = timelineOf(execution, Date.now())

  if (!steps.length) {
    return (
      <Text size="small" className="text-ui-fg-subtle">
        This execution has no steps stored.
      </Text>
    )
  }

  return (
    <ol className="flex flex-col gap-y-3" aria-label="Step timeline">
      {steps.map((step) => (
        <li key={step.id} className="flex flex-col gap-y-1.5">
          <div className="flex flex-wrap items-center justify-between gap-2">
            <div
              className="flex min-w-0 items-center gap-x-2"
              style={{ paddingLeft: `${Math.max(0, step.depth - 1) * 12}px` }}
            >
              <Text
                size="small"
                leading="compact"
                weight="plus"
                className="truncate"
              >
                {step.action}
              </Text>
              <StatusBadge color={stateColor(step.invokeState)}>
                {stateLabel(step.invokeState)}
              </StatusBadge>
              {step.invokeStatus === WAITING_RESPONSE && (
                <Badge size="2xsmall">waiting for an answer</Badge>
              )}
              {step.compensateState !== "dormant" && (
                <StatusBadge color={stateColor(step.compensateState)}>
                  {`Compensation ${stateLabel(step.compensateState).toLowerCase()}`}
                </StatusBadge>
              )}
            </div>
            <Text
              size="small"
              leading="compact"
              className="text-ui-fg-subtle whitespace-nowrap"
            >
              {describeTiming(step)}
            </Text>
          </div>
          <div
            className="bg-ui-bg-subtle relative h-1.5 overflow-hidden rounded-full"
            aria-hidden="true"
          >
            {step.offsetMs !== null && (
              <div
                className={clx(
                  "absolute h-full rounded-full",
                  STATE_BAR_CLASS[stateColor(step.invokeState)]
                )}
                style={{
                  left: `${(step.offsetMs / spanMs) * 100}%`,
                  width: `max(4px, ${((step.upToMs ?? 0) / spanMs) * 100}%)`,
                }}
              />
            )}
          </div>
          {step.invokeStatus === WAITING_RESPONSE && (
            <StepActions execution={execution} step={step} />
          )}
        </li>
      ))}
    </ol>
  )
}

function describeTiming(step: TimelineStep): string {
  if (step.offsetMs === null) {
    return "not started"
  }
  return `started +${formatMs(step.offsetMs)} · ${step.exact ? "" : "≤ "}${formatMs(step.upToMs ?? 0)}`
}

/**
 * A step that waits for an answer: Medusa's own routes give it one, and a
 * retry invokes it again where Medusa's retryStep would (step-retry).
 */
const StepActions = ({
  execution,
  step,
}: {
  execution: HttpTypes.AdminWorkflowExecution
  step: TimelineStep
}) => {
  const prompt = usePrompt()
  const respond = useWorkflowStepResponse(execution.id)
  const retry = useRetryStep(execution.id)
  const busy = respond.isPending || retry.isPending

  const send = async (outcome: "success" | "failure") => {
    try {
      await respond.mutateAsync({
        workflowId: execution.workflow_id,
        transactionId: execution.transaction_id,
        stepId: step.action,
        outcome,
      })
      toast.success(
        outcome === "success"
          ? `${step.action} marked as succeeded`
          : `${step.action} marked as failed`
      )
    } catch (error) {
      toast.error("The step did not take the answer", {
        description: (error as Error).message,
      })
    }
  }

  const retryStep = async () => {
    const confirmed = await prompt({
      title: `Retry ${step.action}?`,
      description:
        "Medusa invokes the step again now and the run goes on from its new answer. What the step does happens again: if its first call still runs or reached its target, it may happen twice.",
      confirmText: "Retry step",
      cancelText: "Keep waiting",
    })
    if (!confirmed) {
      return
    }
    try {
      const { stateAfter } = await retry.mutateAsync({
        stepId: step.action,
        attempts: step.attempts,
      })
      if (stateAfter) {
        toast.success(`${step.action} ran again`, {
          description: `The execution is now ${stateLabel(stateAfter).toLowerCase()}.`,
        })
      } else {
        toast.info(`${step.action} is scheduled to run again`, {
          description:
            "It has not run yet: an instance that runs timers (workerMode shared or worker) invokes it.",
        })
      }
    } catch (error) {
      toast.error("Retry failed", { description: (error as Error).message })
    }
  }

  return (
    <div className="flex gap-x-2">
      <Button
        size="small"
        variant="secondary"
        onClick={() => send("success")}
        isLoading={respond.isPending}
        disabled={busy}
      >
        Mark step succeeded
      </Button>
      <Button
        size="small"
        variant="secondary"
        onClick={() => send("failure")}
        isLoading={respond.isPending}
        disabled={busy}
      >
        Mark step failed
      </Button>
      {step.retryable && (
        <Button
          size="small"
          variant="secondary"
          onClick={retryStep}
          isLoading={retry.isPending}
          disabled={busy}
        >
          <ArrowPath />
          Retry step
        </Button>
      )}
    </div>
  )
}
