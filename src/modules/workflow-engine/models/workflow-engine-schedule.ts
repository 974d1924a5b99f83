import { EntitySchema } from "@medusajs/framework/mikro-orm/core"

type WorkflowEngineScheduleRow = {
  job_id: string
  options: Record<string, unknown>
  next_run_at: Date
  executions: number
  running_by: string | null
  last_run_at: Date | null
  updated_at: Date
}

/** One scheduled workflow (or the purge), ticking once per cluster: whoever moves `next_run_at` runs the tick (schedules/). */
export const WorkflowEngineSchedule =
  new EntitySchema<WorkflowEngineScheduleRow>({
    name: "WorkflowEngineSchedule",
    tableName: "workflow_engine_schedule",
    properties: {
      job_id: { type: "text", columnType: "text", primary: true },
      options: { type: "json", columnType: "jsonb" },
      next_run_at: { type: "Date", columnType: "timestamptz" },
      executions: { type: "integer", columnType: "integer", default: 0 },
      // The instance running the tick in hand, if any.
      running_by: { type: "text", columnType: "text", nullable: true },
      last_run_at: { type: "Date", columnType: "timestamptz", nullable: true },
      updated_at: {
        type: "Date",
        columnType: "timestamptz",
        defaultRaw: "now()",
      },
    },
  })
