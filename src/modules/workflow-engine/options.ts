import { Logger } from "@medusajs/framework/types"
import { describe, invalidField } from "./invalid-field"
import {
  FINISHED_STATE_LIST,
  FinishedState,
  isFinishedState,
} from "./transaction-states"
import { WholeNumberRange, wholeNumberProblem } from "./whole-number"

/** Options of the module, as given in medusa-config under `modules[].options`. */
export type WorkflowEngineOptions = {
  /**
   * Seconds to keep a finished execution of a stored workflow that sets no
   * `retentionTime` of its own. Unset: such executions are removed when they
   * finish, as Medusa's engines do.
   */
  defaultRetentionTime?: number
  /**
   * Seconds to keep at least, by outcome: e.g. `{ failed: 2592000 }` keeps
   * failed runs of every stored workflow for 30 days, even when the workflow's
   * own retention is shorter or unset. The longer of the two applies.
   */
  retentionTimeByState?: Partial<Record<FinishedState, number>>
  /** Seconds between two scheduled purge passes across the cluster; 0 turns the scheduled purge off. */
  purgeIntervalSeconds?: number
  /** Rows a purge pass deletes per batch (one short transaction each). */
  purgeBatchSize?: number
  /**
   * Milliseconds an instance stays alive for the others without renewing its
   * lease (it renews four times per lease). When it dies, its timers, ticks
   * and runs in flight are taken over this long after its last renewal.
   */
  leaseDurationMs?: number
  /**
   * Milliseconds between two looks at the timers table when no notification
   * arrives; notifications and the instance's own timers fire sooner.
   */
  pollIntervalMs?: number
  /**
   * Whether the two statements of every stored run go to Postgres as named
   * prepared statements (parsed and planned once per connection). Turn off
   * behind a pooler that cannot keep them, such as PgBouncer before 1.21 in
   * transaction mode.
   */
  preparedStatements?: boolean
  /**
   * A Postgres URL that reaches the database directly, not through a
   * transaction pooler (PgBouncer, Supavisor, Neon's `-pooler` hosts). The
   * LISTEN connection and the online upgrade's session use it; the pool stays
   * Medusa's. Unset: they use the pool's own URL, and an engine that finds it
   * cannot LISTEN there polls instead.
   */
  directDatabaseUrl?: string
  /**
   * Seconds a run in flight, whose instance is alive, may go without moving
   * (and without waiting for an async answer, a timer or a retry) before it
   * is reported stuck: the event `workflow_execution.stuck` and the storage
   * card's count. 0 turns the report off.
   */
  stuckAfterSeconds?: number
}

export type ResolvedWorkflowEngineOptions = {
  defaultRetentionSeconds: number | undefined
  retentionSecondsByState: Partial<Record<FinishedState, number>>
  purgeIntervalSeconds: number
  purgeBatchSize: number
  leaseDurationMs: number
  pollIntervalMs: number
  preparedStatements: boolean
  directDatabaseUrl: string | undefined
  stuckAfterSeconds: number
}

export const DEFAULT_LEASE_DURATION_MS = 10_000
export const DEFAULT_POLL_INTERVAL_MS = 5_000
const MAX_INTERVAL_MS = 10 * 60 * 1000

export const DEFAULT_PURGE_INTERVAL_SECONDS = 15 * 60
export const DEFAULT_PURGE_BATCH_SIZE = 5000
export const MAX_PURGE_BATCH_SIZE = 50000

export const DEFAULT_STUCK_AFTER_SECONDS = 60 * 60

const KNOWN_OPTIONS = new Set<string>([
  "defaultRetentionTime",
  "retentionTimeByState",
  "purgeIntervalSeconds",
  "purgeBatchSize",
  "leaseDurationMs",
  "pollIntervalMs",
  "preparedStatements",
  "directDatabaseUrl",
  "stuckAfterSeconds",
])

// Medusa merges these into every module's options; they are not ours to validate.
const FRAMEWORK_OPTIONS = new Set<string>(["database", "redisUrl"])

// What Medusa's own engines read from their options (the Redis engine its
// connection and queues under `redis`; the in-memory engine reads none), so a
// store switching engines can keep its config; this engine needs none of it.
const MEDUSA_ENGINE_OPTIONS = new Set<string>(["redis"])

function invalid(field: string, problem: string) {
  return invalidField(
    "Workflow engine (postgres) option",
    field,
    `${problem} (see "Options" in the README of medusa-workflow-engine-postgres)`
  )
}

function wholeNumber(
  field: string,
  value: unknown,
  range: WholeNumberRange
): number | undefined {
  const problem =
    value === undefined ? undefined : wholeNumberProblem(value, range)
  if (problem) {
    throw invalid(field, problem)
  }
  return value as number | undefined
}

function flag(field: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== "boolean") {
    throw invalid(field, `must be true or false, got ${describe(value)}`)
  }
  return value
}

function postgresUrl(field: string, value: unknown): string | undefined {
  if (value === undefined) {
    return undefined
  }
  let url: URL | undefined
  try {
    url = typeof value === "string" ? new URL(value) : undefined
  } catch {
    url = undefined
  }
  if (
    !url ||
    !["postgres:", "postgresql:"].includes(url.protocol) ||
    !url.hostname
  ) {
    // The value may hold a password: only its shape is said.
    throw invalid(
      field,
      `must be a postgres:// or postgresql:// URL with a host, got ${describeUrl(value)}`
    )
  }
  return value as string
}

function describeUrl(value: unknown): string {
  return typeof value === "string"
    ? `a string of ${value.length} characters`
    : describe(value)
}

/**
 * Validates the module options once at start and fills in defaults; warns
 * about the options of Medusa's own engines, which this one ignores.
 */
export function resolveOptions(
  options: Record<string, unknown> | undefined = {},
  logger?: Pick<Logger, "warn">
): ResolvedWorkflowEngineOptions {
  for (const key of Object.keys(options ?? {})) {
    if (MEDUSA_ENGINE_OPTIONS.has(key)) {
      logger?.warn(
        `Workflow engine (postgres) option "${key}" belongs to Medusa's own workflow engines; this engine ignores it ` +
          `(it keeps its state in Postgres) and it can be removed from medusa-config.`
      )
    } else if (!KNOWN_OPTIONS.has(key) && !FRAMEWORK_OPTIONS.has(key)) {
      throw invalid(
        key,
        `is not a known option (known: ${[...KNOWN_OPTIONS].join(", ")})`
      )
    }
  }

  const byState = options?.retentionTimeByState
  const retentionSecondsByState: Partial<Record<FinishedState, number>> = {}
  if (byState !== undefined) {
    if (
      typeof byState !== "object" ||
      byState === null ||
      Array.isArray(byState)
    ) {
      throw invalid(
        "retentionTimeByState",
        `must be an object of ${FINISHED_STATE_LIST.join(", ")} to seconds`
      )
    }
    for (const [state, seconds] of Object.entries(byState)) {
      if (!isFinishedState(state)) {
        throw invalid(
          `retentionTimeByState.${state}`,
          `is not a finished state (use ${FINISHED_STATE_LIST.join(", ")})`
        )
      }
      retentionSecondsByState[state] = wholeNumber(
        `retentionTimeByState.${state}`,
        seconds,
        { min: 0 }
      )
    }
  }

  return {
    defaultRetentionSeconds: wholeNumber(
      "defaultRetentionTime",
      options?.defaultRetentionTime,
      { min: 0 }
    ),
    retentionSecondsByState,
    purgeIntervalSeconds:
      wholeNumber("purgeIntervalSeconds", options?.purgeIntervalSeconds, {
        min: 0,
      }) ?? DEFAULT_PURGE_INTERVAL_SECONDS,
    purgeBatchSize:
      wholeNumber("purgeBatchSize", options?.purgeBatchSize, {
        min: 1,
        max: MAX_PURGE_BATCH_SIZE,
      }) ?? DEFAULT_PURGE_BATCH_SIZE,
    leaseDurationMs:
      wholeNumber("leaseDurationMs", options?.leaseDurationMs, {
        min: 1000,
        max: MAX_INTERVAL_MS,
      }) ?? DEFAULT_LEASE_DURATION_MS,
    pollIntervalMs:
      wholeNumber("pollIntervalMs", options?.pollIntervalMs, {
        min: 100,
        max: MAX_INTERVAL_MS,
      }) ?? DEFAULT_POLL_INTERVAL_MS,
    preparedStatements:
      flag("preparedStatements", options?.preparedStatements) ?? true,
    directDatabaseUrl: postgresUrl(
      "directDatabaseUrl",
      options?.directDatabaseUrl
    ),
    stuckAfterSeconds:
      wholeNumber("stuckAfterSeconds", options?.stuckAfterSeconds, {
        min: 0,
      }) ?? DEFAULT_STUCK_AFTER_SECONDS,
  }
}
