import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"
import { randomUUID } from "crypto"
import { Pool } from "pg"

import { isConnectionLoss } from "../../../src/modules/workflow-engine/storage/connection-loss"
import {
  ANSWERED_STEP,
  LONG_RETENTION_SECONDS,
  RETRY_INTERVAL_SECONDS,
  SHORT_RETENTION_SECONDS,
  SOAK_WF,
  STEP_TIMEOUT_SECONDS,
  TIMED_OUT_STEP,
} from "./soak-workflows-ids"

/** The soak's workflows, registered in every instance; each invocation of a step is one row of soak_log. */

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 4 })
// An idle client cut by the server (the soak restarts it) must not end the instance; the next query opens a new one.
pool.on("error", () => undefined)
const instance = process.env.INSTANCE_NAME ?? "unknown"
// A step's log row waits for a restarted database rather than failing the step: the soak restarts it on purpose.
const LOG_PATIENCE_MS = 60_000

/**
 * Records one invocation. The row's id is drawn once per invocation, so a
 * write sent again after a cut connection is not counted twice, while a
 * second invocation of the same step is.
 */
async function record(
  kind: string,
  key: string,
  step: string | null,
  attempt: number | null
): Promise<void> {
  const id = randomUUID()
  const deadline = Date.now() + LOG_PATIENCE_MS
  for (;;) {
    try {
      await pool.query(
        `INSERT INTO soak_log (id, kind, key, step, attempt, instance) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [id, kind, key, step, attempt, instance]
      )
      return
    } catch (error) {
      if (!isConnectionLoss(error) || Date.now() > deadline) {
        throw error
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}

const invoked = (key: string, context: { stepName: string; attempt: number }) =>
  record("invoke", key, context.stepName, context.attempt)

/** Work that takes a while without holding the CPU, as a call to another service does. */
const callOut = (minMs: number, maxMs: number) =>
  new Promise((resolve) =>
    setTimeout(resolve, minMs + Math.random() * (maxMs - minMs))
  )

const recordTick = createStep(
  "soak-record-tick",
  async (input: { scheduledFor?: string }, context) => {
    await record(
      "tick",
      input.scheduledFor ?? "none",
      context.stepName,
      context.attempt
    )
    return new StepResponse(undefined)
  }
)
createWorkflow(
  { name: SOAK_WF.tick, schedule: { cron: "* * * * * *" } },
  (input: { scheduledFor?: string }) => {
    recordTick(input)
  }
)

const reserve = createStep(
  "soak-reserve",
  async (input: { key: string }, context) => {
    await invoked(input.key, context)
    return new StepResponse(input.key, input.key)
  },
  // A run recovered after a kill compensates without the step's output (none was stored): the context names the run.
  async (_key: string | undefined, context) => {
    await record(
      "compensate",
      context.transactionId!,
      context.stepName,
      context.attempt
    )
  }
)
const charge = createStep("soak-charge", async (key: string, context) => {
  await invoked(key, context)
  await callOut(100, 800)
  return new StepResponse(key)
})
createWorkflow(
  { name: SOAK_WF.sync, store: true, retentionTime: LONG_RETENTION_SECONDS },
  (input: { key: string }) => {
    return new WorkflowResponse(charge(reserve(input)))
  }
)

const quick = createStep(
  "soak-quick",
  async (input: { key: string }, context) => {
    await invoked(input.key, context)
    return new StepResponse(input.key)
  }
)
createWorkflow(
  {
    name: SOAK_WF.shortLived,
    store: true,
    retentionTime: SHORT_RETENTION_SECONDS,
  },
  (input: { key: string }) => {
    return new WorkflowResponse(quick(input))
  }
)

const waitsForAnswer = createStep(
  { name: ANSWERED_STEP, async: true },
  async (input: { key: string }, context) => {
    await invoked(input.key, context)
  }
)
const afterAnswer = createStep(
  "soak-after-answer",
  async (input: { key: string }, context) => {
    await invoked(input.key, context)
    return new StepResponse(input.key)
  }
)
createWorkflow(
  {
    name: SOAK_WF.answered,
    store: true,
    retentionTime: LONG_RETENTION_SECONDS,
  },
  (input: { key: string }) => {
    waitsForAnswer(input)
    return new WorkflowResponse(afterAnswer(input))
  }
)

const failsFirst = createStep(
  {
    name: "soak-fails-first",
    maxRetries: 2,
    retryInterval: RETRY_INTERVAL_SECONDS,
  },
  async (input: { key: string }, context) => {
    await invoked(input.key, context)
    if (context.attempt <= 1) {
      throw new Error("first attempt fails")
    }
    return new StepResponse(context.attempt)
  }
)
createWorkflow(
  { name: SOAK_WF.retry, store: true, retentionTime: LONG_RETENTION_SECONDS },
  (input: { key: string }) => {
    return new WorkflowResponse(failsFirst(input))
  }
)

const neverAnswered = createStep(
  { name: TIMED_OUT_STEP, async: true, timeout: STEP_TIMEOUT_SECONDS },
  async (input: { key: string }, context) => {
    await invoked(input.key, context)
  }
)
createWorkflow(
  { name: SOAK_WF.timeout, store: true, retentionTime: LONG_RETENTION_SECONDS },
  (input: { key: string }) => {
    neverAnswered(input)
  }
)
