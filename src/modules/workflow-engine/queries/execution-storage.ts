import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { MedusaError } from "@medusajs/framework/utils"
import { FinishedState, ResolvedWorkflowEngineOptions } from "../options"
import { decideRetention, RetentionDecision, RetentionSource } from "../retention/retention-policy"
import { countExpired } from "../storage/sql/count-expired"
import { oldestExecutionCreatedAt } from "../storage/sql/oldest-execution"
import { FINISHED_STATES } from "../transaction-states"
import { countKeptForever } from "./sql/count-kept-forever"
import { countersState } from "./sql/has-counters"
import { estimateGroupBytes, ExecutionGroup } from "./sql/estimate-group-bytes"
import { loadExecutionRetention } from "./sql/load-execution-retention"
import { relationSizes, RelationSizes } from "./sql/relation-sizes"

/** Expired rows are counted up to this many; past it the count says "at least". */
export const EXPIRED_COUNT_CAP = 10000

/** The retention settings in force, from the module options (seconds). */
export type RetentionSettings = {
  default_retention_seconds: number | null
  retention_seconds_by_state: Partial<Record<FinishedState, number>>
  purge_interval_seconds: number
  purge_batch_size: number
}

/** What workflow_execution holds and what it costs: the admin's storage card. */
export type ExecutionStorageReport = {
  /** Live executions per workflow and state (exact, from the counters). */
  groups: ExecutionGroup[]
  /** Per workflow: executions, estimated bytes, and finished runs no purge will delete. */
  workflows: { workflow_id: string; executions: number; estimated_bytes: number | null; kept_forever: number }[]
  total_executions: number
  sizes: RelationSizes
  oldest_execution_at: Date | null
  /** Finished runs past their expiry that the next pass deletes; `capped` when there are at least EXPIRED_COUNT_CAP. */
  expired: { executions: number; capped: boolean }
  /** Finished runs with no retention and no expiry. */
  kept_forever: number
  retention: RetentionSettings
}

/** One execution's retention: when it goes, and which setting decided it. */
export type ExecutionRetentionReport = {
  id: string
  workflow_id: string
  transaction_id: string
  state: string
  finished: boolean
  /** When a purge may delete it (database clock); null in flight or when kept forever. */
  expires_at: Date | null
  expired: boolean
  /** The retention it was given when it finished (seconds). */
  retention_seconds: number | null
  /**
   * Which setting gave that retention, as the options read now;
   * "options_changed" when the stored retention no longer matches them.
   */
  source: RetentionSource | "options_changed" | null
  kept_forever: boolean
  /** In flight: the retention it will get for each way it can finish (null: removed when it finishes). */
  on_finish: Record<FinishedState, RetentionDecision | null> | null
  purge_interval_seconds: number
}

/** Reads what the storage card and the execution panel show; each query is bounded by groups, not rows. */
export class ExecutionStorage {
  constructor(
    protected readonly db: Knex,
    protected readonly options: ResolvedWorkflowEngineOptions
  ) {}

  /** Set once the counters hold every row; until then groups are counted from the table (see estimateGroupBytes). */
  private countersReady_ = false

  async report(): Promise<ExecutionStorageReport> {
    this.countersReady_ ||= (await countersState(this.db)) === "ready"
    const [groups, keptForever, sizes, oldest, expired] = await Promise.all([
      estimateGroupBytes(this.db, this.countersReady_),
      countKeptForever(this.db),
      relationSizes(this.db),
      oldestExecutionCreatedAt(this.db),
      countExpired(this.db, EXPIRED_COUNT_CAP),
    ])
    const workflows = new Map<string, ExecutionStorageReport["workflows"][number]>()
    for (const group of groups) {
      const workflow = workflows.get(group.workflow_id) ?? {
        workflow_id: group.workflow_id,
        executions: 0,
        estimated_bytes: null,
        kept_forever: keptForever.get(group.workflow_id) ?? 0,
      }
      workflow.executions += group.executions
      if (group.estimated_bytes !== null) {
        workflow.estimated_bytes = (workflow.estimated_bytes ?? 0) + group.estimated_bytes
      }
      workflows.set(group.workflow_id, workflow)
    }
    return {
      groups,
      workflows: [...workflows.values()].sort((a, b) => b.executions - a.executions),
      total_executions: groups.reduce((sum, group) => sum + group.executions, 0),
      sizes,
      oldest_execution_at: oldest,
      expired: { executions: expired, capped: expired >= EXPIRED_COUNT_CAP },
      kept_forever: [...keptForever.values()].reduce((sum, count) => sum + count, 0),
      retention: this.settings(),
    }
  }

  async retentionOf(id: string): Promise<ExecutionRetentionReport> {
    const row = await loadExecutionRetention(this.db, id)
    if (!row) {
      throw new MedusaError(MedusaError.Types.NOT_FOUND, `WorkflowExecution with id: ${id} was not found`)
    }
    const finished = FINISHED_STATES.has(row.state)
    const workflowRetention = row.workflow_retention_time ?? undefined
    const decision = finished ? decideRetention(row.state, workflowRetention, this.options) : undefined
    const source = !finished || row.retention_time === null
      ? null
      : decision?.seconds === row.retention_time
        ? decision.source
        : "options_changed"
    const outcome = (state: FinishedState) => decideRetention(state, workflowRetention, this.options) ?? null
    return {
      id: row.id,
      workflow_id: row.workflow_id,
      transaction_id: row.transaction_id,
      state: row.state,
      finished,
      expires_at: row.expires_at,
      expired: row.expired,
      retention_seconds: row.retention_time,
      source,
      kept_forever: finished && row.retention_time === null && row.expires_at === null,
      on_finish: finished ? null : { done: outcome("done"), failed: outcome("failed"), reverted: outcome("reverted") },
      purge_interval_seconds: this.options.purgeIntervalSeconds,
    }
  }

  settings(): RetentionSettings {
    return {
      default_retention_seconds: this.options.defaultRetentionSeconds ?? null,
      retention_seconds_by_state: this.options.retentionSecondsByState,
      purge_interval_seconds: this.options.purgeIntervalSeconds,
      purge_batch_size: this.options.purgeBatchSize,
    }
  }
}
