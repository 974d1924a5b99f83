import { EventEmitter } from "events"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import {
  createStep,
  createWorkflow,
  StepResponse,
  transform,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"
import { gate, release } from "../../cluster/__fixtures__/gates"
import { asStepTransaction, waitForFinish } from "./engine"

/**
 * Workflows of the scenarios where Medusa's own engine tests caught ours
 * behaving differently (issue 11): two starts of one transaction, a parent
 * cancelled while its async sub-workflow runs, a background sub-workflow that
 * fails while the parent retries it, and async steps whose timers must never
 * act twice. Each is the smallest shape that shows it. A step that must still
 * be running at some moment of a test waits at a gate keyed by its
 * transaction id, until the test releases it; what the steps did is told as
 * events and counted, for the tests to await and assert on.
 */
export const PARITY = {
  slowStart: "parity-slow-start",
  cancelParent: "parity-cancel-parent",
  cancelChild: "parity-cancel-child",
  backgroundParent: "parity-background-parent",
  backgroundChild: "parity-background-child",
  awaiting: "parity-awaiting",
  answered: "parity-answered",
} as const

export const AWAITING_STEP = "_root.parity-awaiting-step"
export const ANSWERED_STEP = "_root.parity-answered-step"

/** What the steps of these workflows did, for tests to await instead of sleeping. */
export const parityEvents = new EventEmitter()

/** The next `name` the steps tell; with `transactionId`, the next one a step of that transaction tells. */
export function nextParityEvent(
  name: string,
  transactionId?: string
): Promise<unknown> {
  return new Promise((resolve) => {
    const listener = (told: unknown) => {
      if (transactionId === undefined || told === transactionId) {
        parityEvents.off(name, listener)
        resolve(told)
      }
    }
    parityEvents.on(name, listener)
  })
}

export const counts = {
  slowStep: 0,
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

// Stored, not idempotent, and running until the test releases it: a second start arrives while it runs.
const slow = createStep("parity-slow-step", async (_: unknown, { context }) => {
  counts.slowStep++
  parityEvents.emit("slow-step-started", context.transactionId)
  await gate(context.transactionId!)
  return new StepResponse("slow-done")
})
export const slowStart = createWorkflow(
  { name: PARITY.slowStart, retentionTime: 60 },
  () => {
    return new WorkflowResponse(slow())
  }
)

// The sub-workflow's step runs until the test releases it, so that the parent is cancelled while it runs.
const cancelStep1 = createStep(
  "parity-cancel-step1",
  async () => new StepResponse("one")
)
const childWork = createStep(
  "parity-cancel-child-work",
  async (_: unknown, { context }) => {
    parityEvents.emit("cancel-child-started", context.transactionId)
    await gate(context.transactionId!)
    parityEvents.emit("cancel-child-worked", context.transactionId)
    return new StepResponse("child-worked")
  }
)
export const cancelChild = createWorkflow(
  { name: PARITY.cancelChild, retentionTime: 60 },
  () => {
    return new WorkflowResponse(childWork())
  }
)
const cancelStep3 = createStep(
  "parity-cancel-step3",
  async () => new StepResponse("three")
)
export const cancelParent = createWorkflow(
  { name: PARITY.cancelParent, retentionTime: 60 },
  () => {
    cancelStep1()
    const fromChild = cancelChild
      .runAsStep({ input: {} })
      .config({ async: true })
    cancelStep3()
    return new WorkflowResponse(fromChild)
  }
)

// Parent: step0 (undone on failure), the background sub-workflow retried while awaited, then a transform and step2.
const step0 = createStep(
  "parity-background-step0",
  async () => {
    counts.step0++
    return new StepResponse("step0", "undo-step0")
  },
  async (token) => {
    counts.step0Compensated++
    parityEvents.emit("step0-compensated", token)
  }
)
// Each attempt runs until the test releases it, then fails.
const failsWhenReleased = createStep(
  "parity-background-fails-when-released",
  async (_: unknown, { context }) => {
    counts.childStep++
    parityEvents.emit("background-child-started", context.transactionId)
    await gate(context.transactionId!)
    throw new Error("the background sub-workflow fails")
  }
)
export const backgroundChild = createWorkflow(
  { name: PARITY.backgroundChild },
  () => {
    return new WorkflowResponse(failsWhenReleased())
  }
)
const step2 = createStep(
  "parity-background-step2",
  async (input: { from: unknown }) => {
    counts.step2++
    return new StepResponse(input)
  }
)
export const backgroundParent = createWorkflow(
  { name: PARITY.backgroundParent },
  () => {
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
  }
)

/**
 * The three attempts of the background sub-workflow of the parent run
 * `transactionId`: each awaiting retry of the parent starts it again, as
 * `-attempt-<n>`. Made before the parent runs, so that no start or end is
 * missed.
 */
export function backgroundAttempts(
  engine: IWorkflowEngineService,
  transactionId: string
) {
  const first = asStepTransaction(PARITY.backgroundChild, transactionId)
  const ids = [first, `${first}-attempt-2`, `${first}-attempt-3`]
  // What happened so far, in order: for a test that times out to say where it stopped.
  const progress: string[] = []
  const noted = <T>(promise: Promise<T>, what: string) =>
    promise.then((value) => {
      progress.push(what)
      return value
    })
  const started = ids.map((id, i) =>
    noted(nextParityEvent("background-child-started", id), `started ${i + 1}`)
  )
  const finished = ids.map((id, i) =>
    noted(
      waitForFinish(engine, PARITY.backgroundChild, id),
      `finished ${i + 1}`
    )
  )
  const compensating = noted(
    new Promise<void>((resolve) => {
      void engine.subscribe({
        workflowId: PARITY.backgroundParent,
        transactionId,
        subscriber: (event: { eventType: string }) =>
          event.eventType === "onCompensateBegin" && resolve(),
      })
    }),
    "the parent compensating"
  )
  return {
    /** The ids of the attempts, in order. */
    ids,
    progress,
    /** The onFinish of each attempt, in order. */
    finished: Promise.all(finished),
    /**
     * Once all three run (the retries start them while the first still
     * runs), fails the first; once the parent turns to compensation, the
     * later two, each after the one before ended.
     */
    async failInTurn(): Promise<void> {
      await Promise.all(started)
      for (const [i, id] of ids.entries()) {
        release(id)
        await finished[i]
        if (i === 0) {
          await compensating
        }
      }
    },
  }
}

// An async step invoked again every second while nobody answers it.
const awaitingStep = createStep(
  { name: "parity-awaiting-step", async: true, retryIntervalAwaiting: 1 },
  async () => {
    counts.awaiting++
  }
)
const afterAwaiting = createStep(
  "parity-after-awaiting",
  async () => new StepResponse("after")
)
export const awaiting = createWorkflow(
  { name: PARITY.awaiting, retentionTime: 60 },
  () => {
    awaitingStep()
    return new WorkflowResponse(afterAwaiting())
  }
)

// An async step that waits for its answer.
const answeredStep = createStep(
  { name: "parity-answered-step", async: true },
  async () => {}
)
const afterAnswer = createStep(
  "parity-after-answer",
  async () => new StepResponse("after")
)
export const answered = createWorkflow(
  { name: PARITY.answered, retentionTime: 60 },
  () => {
    answeredStep()
    return new WorkflowResponse(afterAnswer())
  }
)
