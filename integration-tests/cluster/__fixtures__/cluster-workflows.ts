import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"
import { Pool } from "pg"

import { ANSWERED_STEP, CLUSTER_WF, QUIET_STEP } from "./cluster-workflows-ids"
import { gate } from "./gates"

/** Workflows the cluster tests run in every instance; each step records what it did in `cluster_log`. */

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 2 })
// An idle client cut by the server (a restart) must not crash the instance; the next query opens a new one.
pool.on("error", () => undefined)
const instance = process.env.INSTANCE_NAME ?? "unknown"

export async function log(kind: string, key: string): Promise<number> {
  const { rows } = await pool.query(
    `INSERT INTO cluster_log (kind, key, instance) VALUES ($1, $2, $3)
     RETURNING (SELECT count(*)::int FROM cluster_log WHERE kind = $1 AND key = $2) AS before`,
    [kind, key, instance]
  )
  return rows[0].before
}

const recordTick = createStep(
  "cluster-record-tick",
  async (input: { scheduledFor?: string }) => {
    await log("tick", input.scheduledFor ?? "none")
    return new StepResponse(undefined)
  }
)
createWorkflow(
  { name: CLUSTER_WF.tick, schedule: { cron: "* * * * * *" } },
  (input: { scheduledFor?: string }) => {
    recordTick(input)
  }
)

// Fails its first attempt; the retry is due two seconds later, on whichever instance is alive then.
const failsOnce = createStep(
  { name: "cluster-fails-once", maxRetries: 1, retryInterval: 2 },
  async (input: { key: string }) => {
    const before = await log("attempt", input.key)
    if (before === 0) {
      throw new Error("first attempt fails")
    }
    return new StepResponse(before + 1)
  }
)
createWorkflow(
  { name: CLUSTER_WF.retry, store: true, retentionTime: 3600 },
  (input: { key: string }) => {
    return new WorkflowResponse(failsOnce(input))
  }
)

// Nobody answers this async step: it times out after three seconds.
const neverAnswered = createStep(
  { name: "cluster-never-answered", async: true, timeout: 3 },
  async (input: { key: string }) => {
    await log("started", input.key)
  }
)
createWorkflow(
  { name: CLUSTER_WF.timeout, store: true, retentionTime: 3600 },
  (input: { key: string }) => {
    neverAnswered(input)
  }
)

// Waits for setStepSuccess, from any instance.
const waitsForAnswer = createStep(
  { name: ANSWERED_STEP, async: true },
  async (input: { key: string }) => {
    await log("started", input.key)
  }
)
createWorkflow(
  { name: CLUSTER_WF.answer, store: true, retentionTime: 3600 },
  (input: { key: string }) => {
    waitsForAnswer(input)
  }
)

// An async step whose handler only waits (no work of its own, as a step waiting for a person's answer).
const waitsQuietly = createStep(
  { name: QUIET_STEP, async: true },
  async () => undefined
)
createWorkflow(
  { name: CLUSTER_WF.quietAnswer, store: true, retentionTime: 3600 },
  () => {
    waitsQuietly()
  }
)

/** Whether this is the instance named "doomed", which the test kills while it runs. */
export const isDoomed = instance === "doomed"
/** Whether this is the instance named "paused", which the test stops (SIGSTOP) while it runs, and lets go on later. */
export const isPaused = instance === "paused"

/** In the instance named "doomed", a step never ends: it is still running when the instance is killed. */
export const hangsIfDoomed = () =>
  isDoomed ? new Promise<never>(() => undefined) : Promise.resolve()

// A background step: its handler runs in the process, apart from the run, which waits for it.
const inBackground = createStep(
  { name: "cluster-in-background", async: true, backgroundExecution: true },
  async (input: { key: string }) => {
    await log("started", input.key)
    await hangsIfDoomed()
    return new StepResponse(`done by ${instance}`)
  }
)
createWorkflow(
  { name: CLUSTER_WF.background, store: true, retentionTime: 3600 },
  (input: { key: string }) => {
    return new WorkflowResponse(inBackground(input))
  }
)

// Two synchronous steps; the second is running when its instance dies.
const reserve = createStep(
  "cluster-reserve",
  async (input: { key: string }) => new StepResponse(input.key, input.key),
  async (key: string | undefined) => {
    await log("compensated", key ?? "none")
  }
)
const charge = createStep("cluster-charge", async (key: string) => {
  await log("started", key)
  await hangsIfDoomed()
  return new StepResponse(key)
})
createWorkflow(
  { name: CLUSTER_WF.sync, store: true, retentionTime: 3600 },
  (input: { key: string }) => {
    return new WorkflowResponse(charge(reserve(input)))
  }
)

// Stored by its retention, not idempotent; its one step runs until the test releases its key in the instance running it.
const heldUntilReleased = createStep(
  "cluster-held-until-released",
  async (input: { key: string }) => {
    await log("started", input.key)
    await gate(input.key)
    return new StepResponse(`done by ${instance}`)
  }
)
createWorkflow(
  { name: CLUSTER_WF.startedOnce, retentionTime: 3600 },
  (input: { key: string }) => {
    return new WorkflowResponse(heldUntilReleased(input))
  }
)
