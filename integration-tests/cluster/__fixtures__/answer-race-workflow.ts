import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"
import { Pool } from "pg"

import { AFTER_STEP, ANSWER_RACE_WF, RACED_STEP } from "./answer-race-ids"

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 2 })
const instance = process.env.INSTANCE_NAME ?? "unknown"

type Answer = { by?: string } | undefined

// Waits for an answer: its output is whatever setStepSuccess is given.
const waitsForAnswer = createStep<undefined, Answer, undefined>(
  { name: RACED_STEP, async: true },
  async () => {}
)

// Records each time it runs, and where; returns which answer it was given.
const recordsRun = createStep(
  AFTER_STEP,
  async (input: { key: string; answer: Answer }) => {
    await pool.query(
      `INSERT INTO answer_log (transaction_id, instance, answered_by) VALUES ($1, $2, $3)`,
      [input.key, instance, input.answer?.by ?? null]
    )
    return new StepResponse({ answeredBy: input.answer?.by ?? null })
  }
)

createWorkflow(
  { name: ANSWER_RACE_WF, store: true, retentionTime: 3600 },
  (input: { key: string }) => {
    const answer = waitsForAnswer()
    return new WorkflowResponse(recordsRun({ key: input.key, answer }))
  }
)
