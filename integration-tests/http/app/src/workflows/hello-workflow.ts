import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"

export const HELLO_WORKFLOW = "hello-workflow"
export const HELLO_FAILING_WORKFLOW = "hello-failing-workflow"
export const HELLO_FAILURE_MESSAGE = "hello-failing-workflow broke on purpose"

const step1 = createStep("hello-step-1", async () => {
  return new StepResponse("Hello from step 1!")
})

/** The stored workflow from Medusa's "store workflow executions" guide. */
export const helloWorkflow = createWorkflow(
  { name: HELLO_WORKFLOW, store: true, retentionTime: 99999 },
  () => {
    const message = step1()
    return new WorkflowResponse(message)
  }
)

const reserve = createStep(
  "hello-reserve",
  async () => new StepResponse("reserved", "reservation-1"),
  async () => {
    // Nothing to release in the test app; having a compensation makes the
    // workflow end "reverted" once the next step fails.
  }
)

const explode = createStep("hello-explode", async () => {
  throw new Error(HELLO_FAILURE_MESSAGE)
})

/** A stored workflow whose second step always fails. */
export const helloFailingWorkflow = createWorkflow(
  { name: HELLO_FAILING_WORKFLOW, store: true, retentionTime: 99999 },
  () => {
    reserve()
    explode()
  }
)

export const HELLO_ASYNC_WORKFLOW = "hello-async-workflow"

const waitForAnswer = createStep(
  { name: "hello-wait-for-answer", async: true },
  async () => {
    // Answered later through setStepSuccess / setStepFailure, or never.
  }
)

/** A stored workflow that stays in flight: its second step waits for an answer. */
export const helloAsyncWorkflow = createWorkflow(
  { name: HELLO_ASYNC_WORKFLOW, store: true, retentionTime: 99999 },
  () => {
    reserve()
    waitForAnswer()
  }
)

export const HELLO_RETRY_WORKFLOW = "hello-retry-workflow"
export const CALL_PARTNER = "hello-call-partner"
export const POLL_PARTNER = "hello-poll-partner"

// The partner never answers the first call; called again, it answers at once.
const callPartner = createStep(
  { name: CALL_PARTNER, async: true },
  async (_input: unknown, { metadata }) => {
    if (metadata.attempt > 1) {
      return new StepResponse("answered")
    }
  }
)

/** A stored workflow that waits for an answer its first call never gets: a retry of that step lets it finish. */
export const helloRetryWorkflow = createWorkflow(
  { name: HELLO_RETRY_WORKFLOW, store: true, retentionTime: 99999 },
  () => {
    reserve()
    return new WorkflowResponse(callPartner())
  }
)

export const HELLO_POLLING_WORKFLOW = "hello-polling-workflow"

// Invoked again by the engine itself every hour while it waits.
const pollPartner = createStep(
  { name: POLL_PARTNER, async: true, retryIntervalAwaiting: 3600 },
  async () => {}
)

/** A stored workflow whose waiting step is retried by the engine at its own interval. */
export const helloPollingWorkflow = createWorkflow(
  { name: HELLO_POLLING_WORKFLOW, store: true, retentionTime: 99999 },
  () => {
    reserve()
    pollPartner()
  }
)
