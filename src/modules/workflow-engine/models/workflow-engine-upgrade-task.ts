import { EntitySchema } from "@medusajs/framework/mikro-orm/core"

/** The queue of the online upgrade (upgrade/): the one spelling of its name. */
export const UPGRADE_TASK_TABLE = "workflow_engine_upgrade_task"

type WorkflowEngineUpgradeTaskRow = {
  name: string
  after_key: string[] | null
  queued_at: Date
}

/** Work a migration left to the online upgrade (upgrade/upgrade-tasks.ts); `after_key` is how far a back-fill got. */
export const WorkflowEngineUpgradeTask =
  new EntitySchema<WorkflowEngineUpgradeTaskRow>({
    name: "WorkflowEngineUpgradeTask",
    tableName: UPGRADE_TASK_TABLE,
    properties: {
      name: { type: "text", columnType: "text", primary: true },
      after_key: { type: "text[]", columnType: "text[]", nullable: true },
      queued_at: {
        type: "Date",
        columnType: "timestamptz",
        defaultRaw: "now()",
      },
    },
  })
