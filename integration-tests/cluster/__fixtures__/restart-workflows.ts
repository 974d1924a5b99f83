import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"

import { log } from "./cluster-workflows"
import { gate } from "./gates"
import { RESTART_WF, RETRY_LATER_SECONDS } from "./restart-workflows-ids"

/** Workflows the restart tests run in the instances, next to the cluster workflows. */

// Fails its first attempt; the retry (a durable timer) is due after the database came back.
const failsOnceThenWaits = createStep(
  {
    name: "restart-fails-once",
    maxRetries: 1,
    retryInterval: RETRY_LATER_SECONDS,
  },
  async (input: { key: string }) => {
    const before = await log("attempt", input.key)
    if (before === 0) {
      throw new Error("first attempt fails")
    }
    return new StepResponse(before + 1)
  }
)
createWorkflow(
  { name: RESTART_WF.retryLater, store: true, retentionTime: 3600 },
  (input: { key: string }) => {
    return new WorkflowResponse(failsOnceThenWaits(input))
  }
)

// Runs until the test releases it, so that it ends (and is stored) at a moment the test picks.
const gated = createStep(
  "restart-gated-step",
  async (input: { key: string }) => {
    await log("started", input.key)
    await gate(input.key)
    return new StepResponse(`released ${input.key}`)
  }
)
createWorkflow(
  { name: RESTART_WF.gated, store: true, retentionTime: 3600 },
  (input: { key: string }) => {
    return new WorkflowResponse(gated(input))
  }
)

// The same, run in the background (the run call returns at once), in a run with a transaction timeout.
const gatedInBackground = createStep(
  {
    name: "restart-gated-background-step",
    async: true,
    backgroundExecution: true,
  },
  async (input: { key: string }) => {
    await log("started", input.key)
    await gate(input.key)
    return new StepResponse(`released ${input.key}`)
  }
)
createWorkflow(
  {
    name: RESTART_WF.gatedInBackground,
    store: true,
    retentionTime: 3600,
    timeout: 600,
  },
  (input: { key: string }) => {
    return new WorkflowResponse(gatedInBackground(input))
  }
)

const quick = createStep(
  "restart-quick-step",
  async (input: { key: string }) => new StepResponse(`ran ${input.key}`)
)
createWorkflow(
  { name: RESTART_WF.quick, store: true, retentionTime: 3600 },
  (input: { key: string }) => {
    return new WorkflowResponse(quick(input))
  }
)
