import { TransactionCheckpoint } from "@medusajs/framework/orchestration"
import {
  TransactionState,
  TransactionStepStatus,
} from "@medusajs/framework/utils"
import { RunEvent } from "../storage/sql/run-event"
import { StoredStep, workflowSteps } from "../stored-flow"
import { WorkflowExecutionEvents } from "./event-names"

/** The longest `error_message` an event carries: enough for a notification's line, never a stack or a payload. */
export const EVENT_ERROR_MESSAGE_MAX_LENGTH = 500

const END_EVENTS: Record<string, string> = {
  [TransactionState.FAILED]: WorkflowExecutionEvents.FAILED,
  [TransactionState.REVERTED]: WorkflowExecutionEvents.REVERTED,
}

/**
 * The event a stored checkpoint records with it (handed to the storage by
 * the loader): the end of a run that failed or reverted, once per run; a
 * step held after a failure until someone retries it (`autoRetry: false`),
 * once per step and attempt. Undefined for everything else, a run that ends
 * done included: those writes record nothing.
 */
export function runEventOf(data: TransactionCheckpoint): RunEvent | undefined {
  const flow = data.flow
  const run = `${flow.modelId}:${flow.transactionId}:${flow.runId}`
  const end = END_EVENTS[flow.state]
  if (end) {
    const failure =
      data.errors?.find((error) => error.handlerType === "invoke") ??
      data.errors?.[0]
    return {
      name: end,
      dedupe_key: `${run}:${flow.state}`,
      state: flow.state,
      step_id: failure?.action ?? null,
      error_message: shortMessage(failure?.error),
    }
  }
  const held = workflowSteps(flow).find(isAwaitingRetry)
  if (held) {
    const action = held.definition?.action ?? held.id
    const failure = data.errors?.find((error) => error.action === action)
    return {
      name: WorkflowExecutionEvents.STEP_AWAITING_RETRY,
      dedupe_key: `${run}:step_awaiting_retry:${held.id}:${held.failures}`,
      state: flow.state,
      step_id: action,
      error_message: shortMessage(failure?.error),
    }
  }
  return undefined
}

// Held by the orchestrator until a retryStep: it failed, may be tried again, and retries only when asked to.
function isAwaitingRetry(step: StoredStep): boolean {
  return (
    step.definition?.autoRetry === false &&
    step.invoke?.status === TransactionStepStatus.TEMPORARY_FAILURE
  )
}

function shortMessage(error: unknown): string | null {
  const message =
    typeof error === "string"
      ? error
      : typeof (error as { message?: unknown })?.message === "string"
        ? (error as { message: string }).message
        : undefined
  if (!message?.trim()) {
    return null
  }
  const trimmed = message.trim()
  return trimmed.length > EVENT_ERROR_MESSAGE_MAX_LENGTH
    ? `${trimmed.slice(0, EVENT_ERROR_MESSAGE_MAX_LENGTH - 1)}…`
    : trimmed
}
