import { EntitySchema } from "@medusajs/framework/mikro-orm/core"

type WorkflowEngineInstanceRow = {
  id: string
  hostname: string
  pid: number
  worker_mode: string
  started_at: Date
  lease_expires_at: Date
}

/**
 * One row per live engine instance: its lease, renewed on the database clock
 * (instances/). A MikroORM entity schema rather than a DML model: DML gives
 * every table created_at, updated_at and deleted_at, which the engine's own
 * tables do not have (see models/index.ts).
 */
export const WorkflowEngineInstance =
  new EntitySchema<WorkflowEngineInstanceRow>({
    name: "WorkflowEngineInstance",
    tableName: "workflow_engine_instance",
    properties: {
      id: { type: "text", columnType: "text", primary: true },
      hostname: { type: "text", columnType: "text" },
      pid: { type: "integer", columnType: "integer" },
      worker_mode: { type: "text", columnType: "text" },
      started_at: {
        type: "Date",
        columnType: "timestamptz",
        defaultRaw: "now()",
      },
      lease_expires_at: { type: "Date", columnType: "timestamptz" },
    },
  })
