import { checkFields, describe, invalidField } from "../invalid-field"
import { MAX_PURGE_BATCH_SIZE } from "../options"
import { wholeNumber } from "../whole-number"

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

const PURGE = "Purge input"
const ERASE = "Erase input"

function optionalText(subject: string, field: string, value: unknown): void {
  if (value !== undefined && value !== null && typeof value !== "string") {
    throw invalidField(
      subject,
      field,
      `must be a string, got ${describe(value)}`
    )
  }
}

const PURGE_INPUT_KEYS = ["dryRun", "batchSize", "maxRows", "actor"]

/** A call of `purgeExpiredExecutions`: the pass's input, and who says they started it. */
export function checkPurgeRequest(input: unknown): {
  pass: PurgeExpiredInput
  trigger: RequestedPurgeTrigger
} {
  const { trigger, ...pass } = checkFields(PURGE, input ?? {}, [
    ...PURGE_INPUT_KEYS,
    "trigger",
  ])
  return { pass: checkPurgeInput(pass), trigger: checkPurgeTrigger(trigger) }
}

export function checkPurgeInput(input: unknown): PurgeExpiredInput {
  const value = checkFields(PURGE, input ?? {}, PURGE_INPUT_KEYS)
  if (value.dryRun !== undefined && typeof value.dryRun !== "boolean") {
    throw invalidField(
      PURGE,
      "dryRun",
      `must be true or false, got ${describe(value.dryRun)}`
    )
  }
  wholeNumber(PURGE, "batchSize", value.batchSize, {
    min: 1,
    max: MAX_PURGE_BATCH_SIZE,
  })
  wholeNumber(PURGE, "maxRows", value.maxRows, { min: 1 })
  optionalText(PURGE, "actor", value.actor)
  return value as PurgeExpiredInput
}

export function checkEraseInput(input: unknown): EraseExecutionsInput {
  const value = checkFields(ERASE, input, ["transaction_ids", "actor"])
  const ids = value.transaction_ids
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    ids.length > MAX_ERASE_TRANSACTIONS
  ) {
    throw invalidField(
      ERASE,
      "transaction_ids",
      `must be an array of 1 to ${MAX_ERASE_TRANSACTIONS} transaction ids`
    )
  }
  ids.forEach((id, i) => {
    if (typeof id !== "string" || !id) {
      throw invalidField(
        ERASE,
        `transaction_ids[${i}]`,
        `must be a non-empty string, got ${describe(id)}`
      )
    }
  })
  optionalText(ERASE, "actor", value.actor)
  return value as EraseExecutionsInput
}

function checkPurgeTrigger(trigger: unknown): RequestedPurgeTrigger {
  if (trigger === undefined) {
    return "manual"
  }
  if (trigger !== "manual" && trigger !== "admin") {
    throw invalidField(
      PURGE,
      "trigger",
      `must be "manual" or "admin", got ${describe(trigger)}`
    )
  }
  return trigger
}
