import { EntitySchema } from "@medusajs/framework/mikro-orm/core"

type WorkflowExecutionCountRow = {
  workflow_id: string
  state: string
  slot: number
  executions: string
}

/**
 * Live executions per workflow and state, spread over a few slots: the sum
 * of a group's slots is its count. Triggers that the counting migration puts
 * on `workflow_execution` keep it; a schema built from these models has no
 * triggers, and list totals then count rows (queries/sql/counters-state.ts).
 */
export const WorkflowExecutionCount =
  new EntitySchema<WorkflowExecutionCountRow>({
    name: "WorkflowExecutionCount",
    tableName: "workflow_execution_count",
    properties: {
      workflow_id: { type: "text", columnType: "text", primary: true },
      state: { type: "text", columnType: "text", primary: true },
      slot: { type: "smallint", columnType: "smallint", primary: true },
      executions: { type: "bigint", columnType: "bigint" },
    },
  })
