import { MedusaError } from "@medusajs/framework/utils"
import { MAX_PURGE_BATCH_SIZE } from "../options"

/** What a caller may ask of a purge pass. */
export type PurgeExpiredInput = {
  /** Count what would be deleted, delete nothing. */
  dryRun?: boolean
  /** Rows per batch; defaults to the module's `purgeBatchSize`. */
  batchSize?: number
  /** Stop after this many rows; unset: until nothing expired is left. */
  maxRows?: number
  /** Who asked, for the audit trail (an admin user id, a script name). */
  actor?: string
}

/** What a caller may ask of an erase request. */
export type EraseExecutionsInput = {
  /** Every stored run of these transactions is deleted, whatever its state or retention. */
  transaction_ids: string[]
  actor?: string
}

export const MAX_ERASE_TRANSACTIONS = 1000

/** What a caller of `purgeExpiredExecutions` may say started the pass; the scheduled job has its own method. */
export type RequestedPurgeTrigger = "manual" | "admin"

function invalid(field: string, message: string): MedusaError {
  return new MedusaError(MedusaError.Types.INVALID_DATA, `Invalid "${field}": ${message}`)
}

function positiveInteger(field: string, value: unknown, max?: number): void {
  if (value === undefined) {
    return
  }
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || (max !== undefined && value > max)) {
    throw invalid(field, `must be a whole number from 1${max ? ` to ${max}` : ""}, got ${JSON.stringify(value)}`)
  }
}

function optionalText(field: string, value: unknown): void {
  if (value !== undefined && value !== null && typeof value !== "string") {
    throw invalid(field, `must be a string, got ${JSON.stringify(value)}`)
  }
}

export function checkPurgeInput(input: unknown): PurgeExpiredInput {
  const value = (input ?? {}) as Record<string, unknown>
  if (typeof value !== "object" || Array.isArray(value)) {
    throw invalid("input", "must be an object")
  }
  for (const key of Object.keys(value)) {
    if (!["dryRun", "batchSize", "maxRows", "actor"].includes(key)) {
      throw invalid(key, "is not a purge option (dryRun, batchSize, maxRows, actor)")
    }
  }
  if (value.dryRun !== undefined && typeof value.dryRun !== "boolean") {
    throw invalid("dryRun", `must be true or false, got ${JSON.stringify(value.dryRun)}`)
  }
  positiveInteger("batchSize", value.batchSize, MAX_PURGE_BATCH_SIZE)
  positiveInteger("maxRows", value.maxRows)
  optionalText("actor", value.actor)
  return value as PurgeExpiredInput
}

export function checkEraseInput(input: unknown): EraseExecutionsInput {
  const value = (input ?? {}) as Record<string, unknown>
  const ids = value.transaction_ids
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_ERASE_TRANSACTIONS) {
    throw invalid("transaction_ids", `must be an array of 1 to ${MAX_ERASE_TRANSACTIONS} transaction ids`)
  }
  ids.forEach((id, i) => {
    if (typeof id !== "string" || !id) {
      throw invalid(`transaction_ids[${i}]`, `must be a non-empty string, got ${JSON.stringify(id)}`)
    }
  })
  optionalText("actor", value.actor)
  return value as EraseExecutionsInput
}

export function checkPurgeTrigger(trigger: unknown): RequestedPurgeTrigger {
  if (trigger === undefined) {
    return "manual"
  }
  if (trigger !== "manual" && trigger !== "admin") {
    throw invalid("trigger", `must be "manual" or "admin", got ${JSON.stringify(trigger)}`)
  }
  return trigger
}
