import { generateEntityId } from "@medusajs/framework/utils"
import { Queryable } from "../../db"

export type PurgeRecord = {
  trigger: "job" | "admin" | "manual" | "erase"
  actor: string | null
  dry_run: boolean
  deleted: number
  batches: number
  duration_ms: number
  longest_batch_ms: number
  transaction_ids: string[] | null
  error: string | null
  started_at: Date
  /** Expired runs the pass left because someone keeps them. */
  skipped_kept: number
}

/** Appends one entry to the purge audit trail and returns its id. */
export async function insertPurgeRecord(
  db: Queryable,
  record: PurgeRecord
): Promise<string> {
  const id = generateEntityId(undefined, "wf_purge")
  await db.raw(
    `INSERT INTO "workflow_execution_purge"
       ("id", "trigger", "actor", "dry_run", "deleted", "batches", "duration_ms",
        "longest_batch_ms", "transaction_ids", "error", "started_at", "skipped_kept")
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?)`,
    [
      id,
      record.trigger,
      record.actor,
      record.dry_run,
      record.deleted,
      record.batches,
      record.duration_ms,
      record.longest_batch_ms,
      record.transaction_ids ? JSON.stringify(record.transaction_ids) : null,
      record.error,
      record.started_at,
      record.skipped_kept,
    ]
  )
  return id
}
