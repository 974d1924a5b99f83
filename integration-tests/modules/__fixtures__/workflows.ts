import {
  createStep,
  createWorkflow,
  parallelize,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"
import { TransactionHandlerType } from "@medusajs/framework/utils"

/** Names of the test workflows, shared by the specs. */
export const WF = {
  storedThreeSteps: "test-stored-three-steps",
  notStored: "test-not-stored",
  compensated: "test-compensated",
  failedCompensation: "test-failed-compensation",
  asyncStep: "test-async-step",
  retryInterval: "test-retry-interval",
  manualRetry: "test-manual-retry",
  noRetention: "test-no-retention",
  stepTimeout: "test-step-timeout",
  scheduled: "test-scheduled",
  parent: "test-parent-with-async-child",
  child: "test-async-child",
  parallelAsync: "test-parallel-async",
  transactionTimeout: "test-transaction-timeout",
  cron: "test-cron",
  idempotent: "test-idempotent",
  interrupted: "test-interrupted",
  failsWithoutRetention: "test-fails-without-retention",
  retriedAfterDeath: "test-retried-after-death",
  retriedLaterAfterDeath: "test-retried-later-after-death",
  timeoutAfterDeath: "test-timeout-after-death",
} as const

export const ASYNC_STEP = "test-async-wait"

/** The idempotency key that answers ASYNC_STEP of a run of WF.asyncStep. */
export const asyncStepKey = (transactionId: string) => ({
  workflowId: WF.asyncStep,
  transactionId,
  stepId: ASYNC_STEP,
  action: TransactionHandlerType.INVOKE,
})

const echo = (name: string) =>
  createStep(name, async (input: { value: number }) => {
    return new StepResponse({ [name]: input.value })
  })

const one = echo("test-step-one")
const two = echo("test-step-two")
const three = echo("test-step-three")

export const storedThreeSteps = createWorkflow(
  { name: WF.storedThreeSteps, store: true, retentionTime: 99999 },
  (input: { value: number }) => {
    const a = one(input)
    two(input)
    three(input)
    return new WorkflowResponse(a)
  }
)

const plain = echo("test-plain-step")
export const notStored = createWorkflow(
  WF.notStored,
  (input: { value: number }) => {
    return new WorkflowResponse(plain(input))
  }
)

export const compensations: string[] = []

const reversible = createStep(
  "test-reversible",
  async () => new StepResponse("made", "undo-me"),
  async (token) => {
    compensations.push(token as string)
  }
)
const failing = createStep("test-failing", async () => {
  throw new Error("step failed on purpose")
})

export const compensated = createWorkflow(
  { name: WF.compensated, store: true, retentionTime: 3600 },
  () => {
    reversible()
    failing()
  }
)

const brokenUndo = createStep(
  "test-broken-undo",
  async () => new StepResponse("made"),
  async () => {
    throw new Error("compensation failed on purpose")
  }
)
const failingToo = createStep("test-failing-too", async () => {
  throw new Error("second step failed")
})
export const failedCompensation = createWorkflow(
  { name: WF.failedCompensation, store: true, retentionTime: 3600 },
  () => {
    brokenUndo()
    failingToo()
  }
)

const before = echo("test-before-async")
const waitForIt = createStep({ name: ASYNC_STEP, async: true }, async () => {})
const after = createStep(
  "test-after-async",
  async (input: { value: number }) => new StepResponse(input.value * 2)
)

export const asyncStep = createWorkflow(
  { name: WF.asyncStep, store: true, retentionTime: 3600 },
  (input: { value: number }) => {
    before(input)
    waitForIt()
    return new WorkflowResponse(after(input))
  }
)

/** `held`, when a test sets it, holds the retry until it settles: the run is then still waiting whatever the machine's speed. */
export const attempts: { count: number; held?: Promise<void> } = { count: 0 }
const flaky = createStep(
  { name: "test-flaky", maxRetries: 2, retryInterval: 1 },
  async () => {
    attempts.count++
    if (attempts.count < 2) {
      throw new Error(`attempt ${attempts.count} fails`)
    }
    await attempts.held
    return new StepResponse(attempts.count)
  }
)
export const retryInterval = createWorkflow(
  { name: WF.retryInterval, retentionTime: 3600 },
  () => new WorkflowResponse(flaky())
)

// A synchronous step held after its first failure (autoRetry: false) until the transaction is run again.
export const manualAttempts = { count: 0 }
const heldOnFailure = createStep(
  { name: "test-held-on-failure", maxRetries: 1, autoRetry: false },
  async () => {
    manualAttempts.count++
    if (manualAttempts.count < 2) {
      throw new Error(`attempt ${manualAttempts.count} fails`)
    }
    return new StepResponse(manualAttempts.count)
  }
)
export const manualRetry = createWorkflow(
  { name: WF.manualRetry, retentionTime: 3600 },
  () => new WorkflowResponse(heldOnFailure())
)

const quick = echo("test-quick")
export const noRetention = createWorkflow(
  { name: WF.noRetention, store: true },
  (input: { value: number }) => {
    return new WorkflowResponse(quick(input))
  }
)

const slowAsync = createStep(
  { name: "test-slow-async", async: true, timeout: 1 },
  async () => {}
)
export const stepTimeout = createWorkflow(
  { name: WF.stepTimeout, store: true, retentionTime: 3600 },
  () => {
    slowAsync()
  }
)

export const ticks: string[] = []
const tick = createStep(
  "test-tick",
  async (input: { scheduledFor?: string }) => {
    ticks.push(input?.scheduledFor ?? "")
    return new StepResponse(true)
  }
)

/**
 * Defining a scheduled workflow registers its schedule with the engine's
 * storage, so it can only be defined once the module has loaded.
 */
export function defineScheduled(everyMs: number, numberOfExecutions: number) {
  return defineSchedule(WF.scheduled, { interval: everyMs, numberOfExecutions })
}

export function defineCron(cron: string, numberOfExecutions: number) {
  return defineSchedule(WF.cron, { cron, numberOfExecutions })
}

function defineSchedule(
  name: string,
  schedule:
    | { interval: number; numberOfExecutions: number }
    | { cron: string; numberOfExecutions: number }
) {
  return createWorkflow(
    { name, schedule },
    (input: { scheduledFor?: string }) => {
      tick(input)
    }
  )
}

const childStep = createStep(
  { name: "test-child-wait", async: true },
  async () => {}
)
export const child = createWorkflow(
  { name: WF.child, store: true, retentionTime: 3600 },
  () => {
    childStep()
    return new WorkflowResponse("child-done")
  }
)

export const parent = createWorkflow(
  { name: WF.parent, store: true, retentionTime: 3600 },
  () => {
    const result = child.runAsStep({ input: {} })
    return new WorkflowResponse(result)
  }
)

const waitA = createStep({ name: "test-wait-a", async: true }, async () => {})
const waitB = createStep({ name: "test-wait-b", async: true }, async () => {})
export const parallelAsync = createWorkflow(
  { name: WF.parallelAsync, store: true, retentionTime: 3600 },
  () => {
    const [a, b] = parallelize(waitA(), waitB())
    return new WorkflowResponse({ a, b })
  }
)

const neverAnswered = createStep(
  { name: "test-never-answered", async: true },
  async () => {}
)
export const transactionTimeout = createWorkflow(
  { name: WF.transactionTimeout, store: true, retentionTime: 3600, timeout: 1 },
  () => {
    neverAnswered()
  }
)

export const idempotentRuns = { count: 0 }
const countedStep = createStep("test-counted", async () => {
  idempotentRuns.count++
  return new StepResponse(idempotentRuns.count)
})
export const idempotent = createWorkflow(
  { name: WF.idempotent, idempotent: true, retentionTime: 3600 },
  () => {
    return new WorkflowResponse(countedStep())
  }
)

/** Lets a test act, mid-step, as another instance would. */
export const midStep: { act: (transactionId: string) => Promise<void> } = {
  act: async () => {},
}
const interruptible = createStep(
  "test-interruptible",
  async (_, { context }) => {
    await midStep.act(context!.transactionId!)
    return new StepResponse("finished")
  }
)
export const interrupted = createWorkflow(
  { name: WF.interrupted, store: true, retentionTime: 3600 },
  () => {
    return new WorkflowResponse(interruptible())
  }
)

const alwaysFails = createStep("test-always-fails", async () => {
  throw new Error("fails, to be kept by outcome")
})
export const failsWithoutRetention = createWorkflow(
  { name: WF.failsWithoutRetention, store: true },
  () => {
    alwaysFails()
  }
)

// An async step, then one that may run again: its author gave it a retry.
const waitBeforeRetried = createStep(
  { name: "test-wait-before-retried", async: true },
  async () => {}
)
const mayRunAgain = createStep(
  { name: "test-may-run-again", maxRetries: 1 },
  async () => new StepResponse("ran again")
)
export const retriedAfterDeath = createWorkflow(
  { name: WF.retriedAfterDeath, store: true, retentionTime: 3600 },
  () => {
    waitBeforeRetried()
    return new WorkflowResponse(mayRunAgain())
  }
)

// The same, with the retry after an interval (a durable timer) instead of at once.
const waitBeforeRetriedLater = createStep(
  { name: "test-wait-before-retried-later", async: true },
  async () => {}
)
const mayRunLater = createStep(
  { name: "test-may-run-later", maxRetries: 1, retryInterval: 1 },
  async () => new StepResponse("ran later")
)
export const retriedLaterAfterDeath = createWorkflow(
  { name: WF.retriedLaterAfterDeath, store: true, retentionTime: 3600 },
  () => {
    waitBeforeRetriedLater()
    return new WorkflowResponse(mayRunLater())
  }
)

// An async step nobody answers, whose timeout leaves a test time to take its timer away first.
const answeredByNobody = createStep(
  { name: "test-answered-by-nobody", async: true, timeout: 4 },
  async () => {}
)
export const timeoutAfterDeath = createWorkflow(
  { name: WF.timeoutAfterDeath, store: true, retentionTime: 3600 },
  () => {
    answeredByNobody()
  }
)
