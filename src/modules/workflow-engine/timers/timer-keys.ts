import { DistributedTransactionType, TransactionStep } from "@medusajs/framework/orchestration"
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
  const metadata = transaction.getFlow().metadata ?? {}
  return {
    key: timerKey(kind, workflow_id, transaction_id, step),
    kind,
    workflow_id,
    transaction_id,
    step_id: step?.id ?? null,
    attempt: step ? step.attempts : null,
    metadata: {
      eventGroupId: metadata.eventGroupId,
      parentStepIdempotencyKey: metadata.parentStepIdempotencyKey,
      preventReleaseEvents: metadata.preventReleaseEvents,
    },
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
  return keyOf(kind, workflowId, transactionId, step?.id, step?.isCompensating())
}

const STEP_TIMER_KINDS: TimerKind[] = ["retry", "continue", "step_timeout"]

/** Every key a timer of this run can have: its transaction timeout, and each kind of step timer of each step, both phases. */
export function runTimerKeys(workflowId: string, transactionId: string, stepIds: string[]): string[] {
  const keys = [keyOf("transaction_timeout", workflowId, transactionId)]
  for (const stepId of stepIds) {
    for (const kind of STEP_TIMER_KINDS) {
      keys.push(keyOf(kind, workflowId, transactionId, stepId), keyOf(kind, workflowId, transactionId, stepId, true))
    }
  }
  return keys
}

function keyOf(kind: TimerKind, workflowId: string, transactionId: string, stepId?: string, compensating?: boolean) {
  const key = [kind, workflowId, transactionId, ...(stepId ? [stepId] : [])].join(":")
  return compensating ? key + COMPENSATION_SUFFIX : key
}
