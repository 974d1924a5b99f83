import type { TransactionStep } from "@medusajs/framework/orchestration"

/** The id of the step every flow hangs its steps from; it is no step of the workflow's own. */
export const ROOT_STEP_ID = "_root"

/**
 * A step as a stored checkpoint holds it: a plain copy of TransactionStep's
 * fields (none of its methods), with the flags TransactionStep keeps private
 * (`stepFailed`: its compensation began) and the end this engine stamps on it
 * (`endedAt`, see storage/step-ends).
 */
export type StoredStep = {
  [
    K in keyof TransactionStep as TransactionStep[K] extends (
      ...args: never[]
    ) => unknown
      ? never
      : K
  ]: TransactionStep[K]
} & {
  stepFailed?: boolean
  endedAt?: number
}

/** The steps of a stored flow, root and all, keyed by step id. */
export function stepsOf(flow: { steps?: object }): Record<string, StoredStep> {
  return (flow.steps ?? {}) as Record<string, StoredStep>
}

/** The workflow's steps of a stored flow, in the flow's order, without the root. */
export function workflowSteps(flow: { steps?: object }): StoredStep[] {
  return Object.values(stepsOf(flow)).filter((step) => step.id !== ROOT_STEP_ID)
}
