import { checkFields, describe, invalidField } from "../invalid-field"
import { wholeNumberProblem } from "../whole-number"

export const BULK_ACTIONS = ["retry", "cancel"] as const
export type BulkActionName = (typeof BULK_ACTIONS)[number]

/** Runs one bulk action reads and acts on per batch unless told otherwise. */
export const DEFAULT_BULK_BATCH_SIZE = 50
export const MAX_BULK_BATCH_SIZE = 500
/** Runs one bulk action acts on at most unless told otherwise; past it, the result says there are `more`. */
export const DEFAULT_BULK_MAX_RUNS = 1000
export const MAX_BULK_MAX_RUNS = 10000

/** What `bulkActOnWorkflowExecutions` takes. */
export type BulkActionInput = {
  /** `retry`: Medusa's retryStep on each step that waits for it; `cancel`: the engine's cancel of a run in flight. */
  action: BulkActionName
  /** The filters of `listWorkflowExecutions` (including `q`), checked by the same rules. */
  filters?: Record<string, unknown>
  /** Count and classify what it would do; act on nothing. */
  dryRun?: boolean
  /** Who asked (an admin user id), for the audit trail. */
  actor?: string | null
  /** Runs read and acted on per batch. */
  batchSize?: number
  /** Stop after this many matching runs. */
  maxRuns?: number
}

const SUBJECT = "Bulk action"

/** Checks a bulk action's input, naming the field that is wrong (the filters are checked by the list's rules). */
export function checkBulkInput(
  input: unknown
): Required<Omit<BulkActionInput, "actor">> & { actor: string | null } {
  const given = checkFields(SUBJECT, input, [
    "action",
    "filters",
    "dryRun",
    "actor",
    "batchSize",
    "maxRuns",
  ])
  const action = given.action
  if (!BULK_ACTIONS.includes(action as BulkActionName)) {
    throw invalidField(
      SUBJECT,
      "action",
      `must be one of ${BULK_ACTIONS.join(", ")}, got ${describe(action)}`
    )
  }
  if (given.dryRun !== undefined && typeof given.dryRun !== "boolean") {
    throw invalidField(
      SUBJECT,
      "dryRun",
      `must be true or false, got ${describe(given.dryRun)}`
    )
  }
  if (
    given.actor !== undefined &&
    given.actor !== null &&
    typeof given.actor !== "string"
  ) {
    throw invalidField(
      SUBJECT,
      "actor",
      `must be a string, got ${describe(given.actor)}`
    )
  }
  const whole = (field: string, fallback: number, max: number): number => {
    const value = given[field]
    if (value === undefined) {
      return fallback
    }
    const problem = wholeNumberProblem(value, { min: 1, max })
    if (problem) {
      throw invalidField(SUBJECT, field, problem)
    }
    return value as number
  }
  return {
    action: action as BulkActionName,
    filters: (given.filters ?? {}) as Record<string, unknown>,
    dryRun: (given.dryRun as boolean | undefined) ?? false,
    actor: (given.actor as string | null | undefined) ?? null,
    batchSize: whole("batchSize", DEFAULT_BULK_BATCH_SIZE, MAX_BULK_BATCH_SIZE),
    maxRuns: whole("maxRuns", DEFAULT_BULK_MAX_RUNS, MAX_BULK_MAX_RUNS),
  }
}
