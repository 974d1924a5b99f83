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

export function timerKey(
  kind: TimerKind,
  workflowId: string,
  transactionId: string,
  step?: TransactionStep
): string {
  const parts = [kind, workflowId, transactionId]
  if (step) {
    parts.push(step.id)
    if (step.isCompensating()) {
      parts.push("compensate")
    }
  }
  return parts.join(":")
}
