import { TransactionStep } from "@medusajs/framework/orchestration"

/**
 * Medusa's flow records when a step started but not when it ended. The end is
 * stamped on the step when its invoke succeeds or fails, in the process that
 * ran it, so it reaches the table with the run's next stored checkpoint: no
 * statement of its own.
 */
export const STEP_ENDED_AT = "endedAt"

export function stampStepEnd(step: TransactionStep): void {
  if (!step.isCompensating()) {
    ;(step as TransactionStep & { [STEP_ENDED_AT]?: number })[STEP_ENDED_AT] = Date.now()
  }
}
