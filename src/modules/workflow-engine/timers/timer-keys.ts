import {
  DistributedTransactionType,
  TransactionStep,
} from "@medusajs/framework/orchestration"
import { TimerKind, TimerSpec } from "./timer-spec"

/**
 * The timers the orchestrator asks for, named so that setting one again
 * replaces it and clearing finds it: one per kind and step (its compensation
 * apart), one transaction timeout per transaction.
 */
export function timerFor(
  kind: TimerKind,
  transaction: DistributedTransactionType,
  step?: TransactionStep
): TimerSpec {
  const { modelId: workflow_id, transactionId: transaction_id } = transaction
  return {
    key: timerKey(kind, workflow_id, transaction_id, step),
    kind,
    workflow_id,
    transaction_id,
    step_id: step?.id ?? null,
    attempt: step ? step.attempts : null,
    metadata: timerMetadata(transaction.getFlow().metadata),
  }
}

/** What of a run's flow metadata a timer carries to the run it continues. */
export function timerMetadata(
  metadata: Record<string, any> | undefined
): TimerSpec["metadata"] {
  return {
    eventGroupId: metadata?.eventGroupId,
    parentStepIdempotencyKey: metadata?.parentStepIdempotencyKey,
    preventReleaseEvents: metadata?.preventReleaseEvents,
  }
}

const COMPENSATION_SUFFIX = ":compensate"

/** Whether a step timer was set for the step's compensation, not its invoke. */
export function isCompensationTimer(key: string): boolean {
  return key.endsWith(COMPENSATION_SUFFIX)
}

export function timerKey(
  kind: TimerKind,
  workflowId: string,
  transactionId: string,
  step?: TransactionStep
): string {
  return keyOf(
    kind,
    workflowId,
    transactionId,
    step?.id,
    step?.isCompensating()
  )
}

/** The key of a timer of a step's invoke, by the step's id (a run as stored, not a live transaction). */
export function stepTimerKey(
  kind: TimerKind,
  workflowId: string,
  transactionId: string,
  stepId: string
): string {
  return keyOf(kind, workflowId, transactionId, stepId)
}

const STEP_TIMER_KINDS: TimerKind[] = ["retry", "continue", "step_timeout"]

/** Every key a timer of this run can have: its transaction timeout, and each kind of step timer of each step, both phases. */
export function runTimerKeys(
  workflowId: string,
  transactionId: string,
  stepIds: string[]
): string[] {
  const keys = [keyOf("transaction_timeout", workflowId, transactionId)]
  for (const stepId of stepIds) {
    for (const kind of STEP_TIMER_KINDS) {
      keys.push(
        keyOf(kind, workflowId, transactionId, stepId),
        keyOf(kind, workflowId, transactionId, stepId, true)
      )
    }
  }
  return keys
}

function keyOf(
  kind: TimerKind,
  workflowId: string,
  transactionId: string,
  stepId?: string,
  compensating?: boolean
) {
  const key = [
    kind,
    workflowId,
    transactionId,
    ...(stepId ? [stepId] : []),
  ].join(":")
  return compensating ? key + COMPENSATION_SUFFIX : key
}
