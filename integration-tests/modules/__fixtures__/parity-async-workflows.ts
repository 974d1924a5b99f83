import { setTimeout as delay } from "timers/promises"
import {
  createStep,
  createWorkflow,
  StepResponse,
  transform,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"

/**
 * Workflows of the scenarios where async steps, sub-workflows and their
 * timers behaved otherwise than in Medusa's engine (issue 11, items 3 and 4).
 * Each counts what its steps did, for the tests to assert on.
 */
export const PARITY_ASYNC = {
  backgroundParent: "pa-background-parent",
  backgroundChild: "pa-background-child",
  awaiting: "pa-awaiting",
  answered: "pa-answered",
} as const

export const AWAITING_STEP = "_root.pa-awaiting-step"
export const ANSWERED_STEP = "_root.pa-answered-step"

export const counts = {
  step0: 0,
  step0Compensated: 0,
  childStep: 0,
  shaped: 0,
  step2: 0,
  awaiting: 0,
}

export function resetCounts(): void {
  for (const name of Object.keys(counts) as (keyof typeof counts)[]) {
    counts[name] = 0
  }
}

// Parent: step0 (undone on failure), the background sub-workflow retried while awaited, then a transform and step2.
const step0 = createStep(
  "pa-background-step0",
  async () => {
    counts.step0++
    return new StepResponse("step0", "undo-step0")
  },
  async () => {
    counts.step0Compensated++
  }
)
const failsAfterASecond = createStep("pa-background-child-step", async () => {
  counts.childStep++
  await delay(1000)
  throw new Error("the background sub-workflow fails")
})
export const backgroundChild = createWorkflow({ name: PARITY_ASYNC.backgroundChild }, () => {
  return new WorkflowResponse(failsAfterASecond())
})
const step2 = createStep("pa-background-step2", async (input: { from: unknown }) => {
  counts.step2++
  return new StepResponse(input)
})
export const backgroundParent = createWorkflow({ name: PARITY_ASYNC.backgroundParent }, () => {
  step0()
  const fromChild = backgroundChild.runAsStep({ input: {} }).config({
    async: true,
    compensateAsync: true,
    backgroundExecution: true,
    retryIntervalAwaiting: 0.1,
    maxAwaitingRetries: 3,
  })
  const shaped = transform({ fromChild }, ({ fromChild }) => {
    counts.shaped++
    return { from: fromChild }
  })
  return new WorkflowResponse(step2(shaped))
})

// An async step invoked again every second while nobody answers it.
const awaitingStep = createStep({ name: "pa-awaiting-step", async: true, retryIntervalAwaiting: 1 }, async () => {
  counts.awaiting++
})
const afterAwaiting = createStep("pa-after-awaiting", async () => new StepResponse("after"))
export const awaiting = createWorkflow({ name: PARITY_ASYNC.awaiting, retentionTime: 60 }, () => {
  awaitingStep()
  return new WorkflowResponse(afterAwaiting())
})

// An async step that waits for its answer.
const answeredStep = createStep({ name: "pa-answered-step", async: true }, async () => {})
const afterAnswer = createStep("pa-after-answer", async () => new StepResponse("after"))
export const answered = createWorkflow({ name: PARITY_ASYNC.answered, retentionTime: 60 }, () => {
  answeredStep()
  return new WorkflowResponse(afterAnswer())
})
