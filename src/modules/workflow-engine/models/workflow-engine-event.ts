import { EntitySchema } from "@medusajs/framework/mikro-orm/core"

type WorkflowEngineEventRow = {
  id: string
  name: string
  dedupe_key: string
  payload: Record<string, unknown>
  attempts: number
  next_attempt_at: Date
  last_error: string | null
  delivered_at: Date | null
  created_at: Date
}

/** One run event in the outbox, from the commit that caused it until it is handed to the event bus (events/). */
export const WorkflowEngineEvent = new EntitySchema<WorkflowEngineEventRow>({
  name: "WorkflowEngineEvent",
  tableName: "workflow_engine_event",
  properties: {
    id: {
      type: "text",
      columnType: "text",
      primary: true,
      defaultRaw: `('wfevt_' || replace(gen_random_uuid()::text, '-', ''))`,
    },
    name: { type: "text", columnType: "text" },
    // One event per run end, per awaited retry, per stall: a second write of the same one records nothing.
    dedupe_key: { type: "text", columnType: "text" },
    payload: { type: "json", columnType: "jsonb" },
    // Hand-overs to the event bus that failed; past the bound the row stays, undelivered and counted.
    attempts: { type: "integer", columnType: "integer", default: 0 },
    next_attempt_at: {
      type: "Date",
      columnType: "timestamptz",
      defaultRaw: "now()",
    },
    last_error: { type: "text", columnType: "text", nullable: true },
    delivered_at: { type: "Date", columnType: "timestamptz", nullable: true },
    created_at: {
      type: "Date",
      columnType: "timestamptz",
      defaultRaw: "now()",
    },
  },
  uniques: [
    {
      name: "IDX_workflow_engine_event_dedupe_key",
      properties: ["dedupe_key"],
    },
  ],
  indexes: [
    // What the deliverers claim, due first.
    {
      name: "IDX_workflow_engine_event_pending",
      expression: `CREATE INDEX IF NOT EXISTS "IDX_workflow_engine_event_pending" ON "workflow_engine_event" ("next_attempt_at") WHERE "delivered_at" IS NULL`,
    },
    // Delivered events, kept a while so that a late second write of one records nothing, then removed oldest first.
    {
      name: "IDX_workflow_engine_event_delivered_at",
      expression: `CREATE INDEX IF NOT EXISTS "IDX_workflow_engine_event_delivered_at" ON "workflow_engine_event" ("delivered_at") WHERE "delivered_at" IS NOT NULL`,
    },
  ],
})
