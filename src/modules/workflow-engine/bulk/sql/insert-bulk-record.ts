import { generateEntityId } from "@medusajs/framework/utils"
import { Queryable } from "../../db"

export type BulkActionRecord = {
  action: "retry" | "cancel"
  actor: string | null
  dry_run: boolean
  filters: Record<string, unknown>
  matched: number
  acted: number
  skipped: number
  batches: number
  duration_ms: number
  error: string | null
}

/** Appends one entry to the bulk action audit trail and returns its id; an insert of a new row, so nothing contends. */
export async function insertBulkRecord(
  db: Queryable,
  record: BulkActionRecord
): Promise<string> {
  const id = generateEntityId(undefined, "wf_bulk")
  await db.raw(
    `INSERT INTO "workflow_execution_bulk_action"
       ("id", "action", "actor", "dry_run", "filters", "matched", "acted", "skipped", "batches", "duration_ms", "error")
     VALUES (?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?)`,
    [
      id,
      record.action,
      record.actor,
      record.dry_run,
      JSON.stringify(record.filters),
      record.matched,
      record.acted,
      record.skipped,
      record.batches,
      record.duration_ms,
      record.error,
    ]
  )
  return id
}
