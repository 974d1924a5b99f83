import { EventEmitter } from "events"
import { setTimeout as delay } from "timers/promises"
import {
  createStep,
  createWorkflow,
  StepResponse,
  transform,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"

/**
 * Workflows of the scenarios where Medusa's own engine tests caught ours
 * behaving differently (issue 11). Each is the smallest shape that shows it.
 */
export const PARITY = {
  slowStart: "parity-slow-start",
  cancelParent: "parity-cancel-parent",
  cancelChild: "parity-cancel-child",
  backgroundParent: "parity-background-parent",
  backgroundChild: "parity-background-child",
} as const

/** What the steps of these workflows did, for tests to await instead of sleeping. */
export const parityEvents = new EventEmitter()

export function nextParityEvent(name: string): Promise<unknown> {
  return new Promise((resolve) => parityEvents.once(name, resolve))
}

/** How often the slow step ran, and what it waits for besides its 100 ms (a test may hold it). */
export const slowStep = { runs: 0, held: Promise.resolve() as Promise<unknown> }

// Stored, not idempotent, one step long enough for a second start to arrive while it runs.
const slow = createStep("parity-slow-step", async () => {
  slowStep.runs++
  parityEvents.emit("slow-step-started")
  await Promise.all([delay(100), slowStep.held])
  return new StepResponse("slow-done")
})
export const slowStart = createWorkflow({ name: PARITY.slowStart, retentionTime: 60 }, () => {
  return new WorkflowResponse(slow())
})

const cancelStep1 = createStep("parity-cancel-step1", async () => new StepResponse("one"))
const childWork = createStep("parity-cancel-child-work", async () => {
  parityEvents.emit("cancel-child-started")
  await delay(500)
  parityEvents.emit("cancel-child-worked")
  return new StepResponse("child-worked")
})
export const cancelChild = createWorkflow({ name: PARITY.cancelChild, retentionTime: 60 }, () => {
  return new WorkflowResponse(childWork())
})
const cancelStep3 = createStep("parity-cancel-step3", async () => new StepResponse("three"))
export const cancelParent = createWorkflow({ name: PARITY.cancelParent, retentionTime: 60 }, () => {
  cancelStep1()
  const fromChild = cancelChild.runAsStep({ input: {} }).config({ async: true })
  cancelStep3()
  return new WorkflowResponse(fromChild)
})

const step0 = createStep(
  "parity-background-step0",
  async () => new StepResponse("step0", "undo-step0"),
  async (token) => {
    parityEvents.emit("step0-compensated", token)
  }
)
const failsLate = createStep("parity-background-fails-late", async () => {
  await delay(1000)
  throw new Error("the background sub-workflow fails")
})
export const backgroundChild = createWorkflow({ name: PARITY.backgroundChild }, () => {
  return new WorkflowResponse(failsLate())
})
const step2 = createStep("parity-background-step2", async (input: { from: unknown }) => new StepResponse(input))
export const backgroundParent = createWorkflow({ name: PARITY.backgroundParent }, () => {
  step0()
  const fromChild = backgroundChild.runAsStep({ input: {} }).config({
    async: true,
    compensateAsync: true,
    backgroundExecution: true,
    retryIntervalAwaiting: 0.1,
    maxAwaitingRetries: 3,
  })
  const shaped = transform({ fromChild }, ({ fromChild }) => ({ from: fromChild }))
  return new WorkflowResponse(step2(shaped))
})
