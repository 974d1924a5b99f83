import { EntitySchema } from "@medusajs/framework/mikro-orm/core"

type WorkflowExecutionTimerRow = {
  key: string
  kind: string
  workflow_id: string
  transaction_id: string
  step_id: string | null
  attempt: number | null
  metadata: Record<string, unknown> | null
  due_at: Date
  claimed_by: string | null
  created_at: Date
}

/** One pending durable timer (retry, timeout, async continuation), keyed so that setting it again replaces it (timers/). */
export const WorkflowExecutionTimer =
  new EntitySchema<WorkflowExecutionTimerRow>({
    name: "WorkflowExecutionTimer",
    tableName: "workflow_execution_timer",
    properties: {
      key: { type: "text", columnType: "text", primary: true },
      kind: { type: "text", columnType: "text" },
      workflow_id: { type: "text", columnType: "text" },
      transaction_id: { type: "text", columnType: "text" },
      step_id: { type: "text", columnType: "text", nullable: true },
      attempt: { type: "integer", columnType: "integer", nullable: true },
      metadata: { type: "json", columnType: "jsonb", nullable: true },
      due_at: { type: "Date", columnType: "timestamptz" },
      // The instance firing it, while that instance's lease lives.
      claimed_by: { type: "text", columnType: "text", nullable: true },
      created_at: {
        type: "Date",
        columnType: "timestamptz",
        defaultRaw: "now()",
      },
    },
    indexes: [
      { name: "IDX_workflow_execution_timer_due_at", properties: ["due_at"] },
    ],
  })
