import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"
import { Pool } from "pg"
import { RETRY_SECONDS, TIMER_WF } from "./timer-workflows-ids"

// Not cluster-workflows' log: importing it registers the cluster workflows too, a per-second schedule among them.
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 2 })
const instance = process.env.INSTANCE_NAME ?? "unknown"

/** Records an attempt in cluster_log; returns how many of its key were there before. */
async function logAttempt(key: string): Promise<number> {
  const { rows } = await pool.query(
    `INSERT INTO cluster_log (kind, key, instance) VALUES ('attempt', $1, $2)
     RETURNING (SELECT count(*)::int FROM cluster_log WHERE kind = 'attempt' AND key = $1) AS before`,
    [key, instance]
  )
  return rows[0].before
}

/**
 * The timer spec's workflow: a step that fails its first attempt and is
 * retried after RETRY_SECONDS, on whichever instance fires the timer; each
 * attempt is recorded in `cluster_log` (kind "attempt") with its instance.
 */
const failsOnce = createStep(
  {
    name: "timer-spec-fails-once",
    maxRetries: 1,
    retryInterval: RETRY_SECONDS,
  },
  async (input: { key: string }) => {
    const before = await logAttempt(input.key)
    if (before === 0) {
      throw new Error("first attempt fails")
    }
    return new StepResponse(before + 1)
  }
)
createWorkflow(
  { name: TIMER_WF.retry, store: true, retentionTime: 3600 },
  (input: { key: string }) => {
    return new WorkflowResponse(failsOnce(input))
  }
)
