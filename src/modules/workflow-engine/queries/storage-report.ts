import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { MedusaError } from "@medusajs/framework/utils"
import { ResolvedWorkflowEngineOptions } from "../options"
import {
  decideRetention,
  RetentionDecision,
  RetentionSource,
} from "../retention/retention-policy"
import { countExpired } from "../retention/sql/count-expired"
import { countKept } from "../retention/sql/count-kept"
import { oldestExecutionCreatedAt } from "../retention/sql/oldest-execution"
import {
  FINISHED_STATE_LIST,
  FINISHED_STATES,
  FinishedState,
} from "../transaction-states"
import { countKeptForever } from "./sql/count-kept-forever"
import { countRunReports, RunReports } from "./sql/count-run-reports"
import { countersState } from "./sql/counters-state"
import { estimateGroupBytes, ExecutionGroup } from "./sql/estimate-group-bytes"
import { loadExecutionRetention } from "./sql/load-execution-retention"
import { relationSizes, RelationSizes } from "./sql/relation-sizes"
import { scanStorage } from "./sql/scan-storage"
import { PendingUpgrade } from "../upgrade/pending-upgrade"

/** Expired rows are counted up to this many; past it the count says "at least". */
export const EXPIRED_COUNT_CAP = 10000

/** The retention settings in force, from the module options (seconds). */
export type RetentionSettings = {
  default_retention_seconds: number | null
  retention_seconds_by_state: Partial<Record<FinishedState, number>>
  purge_interval_seconds: number
  purge_batch_size: number
}

/** What `medusa db:migrate` left to the module and is not done yet (see upgrade/). */
export type PendingUpgradeReport = {
  /** Its tasks, oldest first: back-fills (`backfill:…`) and index builds (`index:…`). */
  tasks: string[]
  /** When the oldest of them was queued. */
  queued_at: Date
}

/** What workflow_execution holds and what it costs: the admin's storage card. */
export type ExecutionStorageReport = {
  /** Live executions per workflow and state (exact, from the counters, or counted while the upgrade is pending). */
  groups: ExecutionGroup[]
  /** Per workflow: executions, estimated bytes, and finished runs no purge will delete. */
  workflows: {
    workflow_id: string
    executions: number
    estimated_bytes: number | null
    kept_forever: number
  }[]
  total_executions: number
  sizes: RelationSizes
  oldest_execution_at: Date | null
  /** Finished runs past their expiry that the next pass deletes; `capped` when there are at least EXPIRED_COUNT_CAP. */
  expired: { executions: number; capped: boolean }
  /** Finished runs with no retention and no expiry. */
  kept_forever: number
  /** Runs in flight reported stuck (the module option `stuckAfterSeconds`) that have not moved since. */
  stuck: RunReports["stuck"]
  /** The run events' outbox: waiting for delivery, and given up after the event bus refused them too often. */
  events: { pending: number; given_up: number }
  /** Finished runs someone keeps from the purge (POST …/executions/:id/keep), and how many of them are past their own expiry. */
  kept: { executions: number; expired: number }
  retention: RetentionSettings
  /**
   * The upgrade `medusa db:migrate` left to the module, while it is not done;
   * null once it is. Meanwhile every figure above is read from the table's
   * rows (exact, each report one pass over the table), and purges read them too.
   */
  upgrade: PendingUpgradeReport | null
}

type Counted = Pick<
  ExecutionStorageReport,
  "groups" | "oldest_execution_at" | "expired"
> & { keptForever: Map<string, number> }

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
  /** Who keeps it from the purge, why and since when (POST …/executions/:id/keep); null when nobody does. `expires_at` is then the expiry that applies again once it is no longer kept. */
  kept: { at: Date; by: string | null; reason: string | null } | null
  /** In flight: the retention it will get for each way it can finish (null: removed when it finishes). */
  on_finish: Record<FinishedState, RetentionDecision | null> | null
  purge_interval_seconds: number
}

/**
 * Reads what the storage card and the execution panel show; once the online
 * upgrade is done, each query is bounded by groups, not rows.
 */
export class StorageReport {
  private readonly upgrade: PendingUpgrade

  constructor(
    protected readonly db: Knex,
    protected readonly options: ResolvedWorkflowEngineOptions
  ) {
    this.upgrade = new PendingUpgrade(db)
  }

  /** Set once the upgrade is done and the counters hold every row; until then the report scans the table. */
  private countersReady_ = false

  async report(): Promise<ExecutionStorageReport> {
    const pending = await this.upgrade.tasks()
    this.countersReady_ ||=
      !pending.length && (await countersState(this.db)) === "ready"
    const [counted, sizes, reports, kept] = await Promise.all([
      this.countersReady_ ? this.countIndexed() : this.countScanned(),
      relationSizes(this.db),
      countRunReports(this.db),
      countKept(this.db),
    ])
    const workflows = new Map<
      string,
      ExecutionStorageReport["workflows"][number]
    >()
    for (const group of counted.groups) {
      const workflow = workflows.get(group.workflow_id) ?? {
        workflow_id: group.workflow_id,
        executions: 0,
        estimated_bytes: null,
        kept_forever: counted.keptForever.get(group.workflow_id) ?? 0,
      }
      workflow.executions += group.executions
      if (group.estimated_bytes !== null) {
        workflow.estimated_bytes =
          (workflow.estimated_bytes ?? 0) + group.estimated_bytes
      }
      workflows.set(group.workflow_id, workflow)
    }
    return {
      groups: counted.groups,
      workflows: [...workflows.values()].sort(
        (a, b) => b.executions - a.executions
      ),
      total_executions: counted.groups.reduce(
        (sum, group) => sum + group.executions,
        0
      ),
      sizes,
      oldest_execution_at: counted.oldest_execution_at,
      expired: counted.expired,
      kept_forever: [...counted.keptForever.values()].reduce(
        (sum, count) => sum + count,
        0
      ),
      stuck: reports.stuck,
      events: {
        pending: reports.events_pending,
        given_up: reports.events_given_up,
      },
      kept: { executions: kept.kept, expired: kept.kept_expired },
      retention: this.settings(),
      upgrade: pending.length
        ? {
            tasks: pending.map((task) => task.name),
            queued_at: pending[0].queued_at,
          }
        : null,
    }
  }

  // From the counters, the indexes and a bounded sample: what the upgrade left is done.
  private async countIndexed(): Promise<Counted> {
    const [groups, keptForever, oldest, expired] = await Promise.all([
      estimateGroupBytes(this.db),
      countKeptForever(this.db),
      oldestExecutionCreatedAt(this.db),
      countExpired(this.db, EXPIRED_COUNT_CAP),
    ])
    return {
      groups,
      keptForever,
      oldest_execution_at: oldest,
      expired: { executions: expired, capped: expired >= EXPIRED_COUNT_CAP },
    }
  }

  // One pass over the table, exact, while the upgrade is pending.
  private async countScanned(): Promise<Counted> {
    const scanned = await scanStorage(this.db)
    const live = scanned.filter((group) => group.executions > 0)
    const keptForever = new Map<string, number>()
    for (const group of live) {
      keptForever.set(
        group.workflow_id,
        (keptForever.get(group.workflow_id) ?? 0) + group.kept_forever
      )
    }
    const oldest = live.reduce<Date | null>(
      (min, group) =>
        group.oldest && (!min || group.oldest < min) ? group.oldest : min,
      null
    )
    return {
      groups: live.map(
        ({ workflow_id, state, executions, estimated_bytes }) => ({
          workflow_id,
          state,
          executions,
          estimated_bytes,
        })
      ),
      keptForever,
      oldest_execution_at: oldest,
      expired: {
        executions: scanned.reduce((sum, group) => sum + group.expired, 0),
        capped: false,
      },
    }
  }

  async retentionOf(id: string): Promise<ExecutionRetentionReport> {
    const row = await loadExecutionRetention(this.db, id)
    if (!row) {
      throw new MedusaError(
        MedusaError.Types.NOT_FOUND,
        `WorkflowExecution with id: ${id} was not found`
      )
    }
    const finished = FINISHED_STATES.has(row.state)
    const workflowRetention = row.workflow_retention_time ?? undefined
    const decision = finished
      ? decideRetention(row.state, workflowRetention, this.options)
      : undefined
    const source =
      !finished || row.retention_time === null
        ? null
        : decision?.seconds === row.retention_time
          ? decision.source
          : "options_changed"
    const outcome = (state: FinishedState) =>
      decideRetention(state, workflowRetention, this.options) ?? null
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
      kept_forever:
        finished && row.retention_time === null && row.expires_at === null,
      kept: row.kept_at
        ? { at: row.kept_at, by: row.kept_by, reason: row.kept_reason }
        : null,
      on_finish: finished
        ? null
        : (Object.fromEntries(
            FINISHED_STATE_LIST.map((state) => [state, outcome(state)])
          ) as ExecutionRetentionReport["on_finish"]),
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
