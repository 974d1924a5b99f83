import { Logger } from "@medusajs/framework/types"
import { MedusaError } from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { ResolvedWorkflowEngineOptions } from "../options"
import { countExpired } from "./sql/count-expired"
import { countKept } from "./sql/count-kept"
import { executionState } from "./sql/execution-state"
import { keepExecution, KeptExecutionRow } from "./sql/keep-execution"
import { unkeepExecution } from "./sql/unkeep-execution"
import { eraseTransactions } from "./sql/erase-transactions"
import { fillMissingExpiry } from "./sql/fill-missing-expiry"
import { insertPurgeRecord, PurgeRecord } from "./sql/insert-purge-record"
import { oldestExecutionCreatedAt } from "./sql/oldest-execution"
import { purgeExpiredBatch } from "./sql/purge-expired-batch"
import { PendingUpgrade } from "../upgrade/pending-upgrade"
import { EngineRecorder, NO_RECORDER } from "../metrics/engine-recorder"
import { inSpan } from "../metrics/engine-spans"
import { EXPIRY_TASKS } from "../upgrade/upgrade-tasks"
import {
  FIRST_BATCH_SIZE,
  MIN_BATCH_SIZE,
  nextBatchSize,
  PurgeProgress,
} from "./purge-batches"
import {
  checkEraseInput,
  checkPurgeInput,
  EraseExecutionsInput,
  PurgeExpiredInput,
} from "./purge-input"
import { purgeUnfilled } from "./unfilled-purge"

export type PurgeTrigger = "job" | "admin" | "manual"

/** What a purge pass did, or would do on a dry run. */
export type PurgeResult = {
  /** The audit trail entry of this pass. */
  id: string
  dry_run: boolean
  /** Rows deleted; 0 on a dry run. */
  deleted: number
  /** On a dry run, how many rows a real pass would delete now. */
  would_delete?: number
  batches: number
  duration_ms: number
  longest_batch_ms: number
  /** When the oldest execution still stored was created. */
  oldest_remaining: Date | null
  /** Runs past their own expiry that the pass left (or would leave) because someone keeps them. */
  skipped_kept: number
}

export type EraseResult = {
  id: string
  deleted: number
  transaction_ids: string[]
}

/**
 * Keeps `workflow_execution` bounded: purges finished runs past their expiry
 * in short batches, erases transactions on request, and writes every pass to
 * the audit trail, `workflow_execution_purge`.
 */
export class ExecutionRetention {
  private readonly upgrade: PendingUpgrade

  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    private readonly options: ResolvedWorkflowEngineOptions,
    private readonly recorder: EngineRecorder = NO_RECORDER
  ) {
    this.upgrade = new PendingUpgrade(db)
  }

  async purgeExpired(
    input: PurgeExpiredInput = {},
    trigger: PurgeTrigger = "manual"
  ): Promise<PurgeResult> {
    return await inSpan(
      "workflow_engine.purge",
      { "workflow_engine.purge.trigger": trigger },
      () => this.purgePass(input, trigger)
    )
  }

  private async purgePass(
    input: PurgeExpiredInput,
    trigger: PurgeTrigger
  ): Promise<PurgeResult> {
    const {
      dryRun = false,
      batchSize = this.options.purgeBatchSize,
      maxRows,
      actor,
    } = checkPurgeInput(input)
    const startedAt = new Date()
    const started = performance.now()
    const progress: PurgeProgress = { deleted: 0, batches: 0, longest: 0 }
    let wouldDelete: number | undefined
    let skippedKept = 0

    const record = (error: string | null): Omit<PurgeRecord, "trigger"> => ({
      actor: actor ?? null,
      dry_run: dryRun,
      deleted: dryRun ? (wouldDelete ?? 0) : progress.deleted,
      batches: progress.batches,
      duration_ms: Math.round(performance.now() - started),
      longest_batch_ms: Math.round(progress.longest),
      transaction_ids: null,
      error,
      started_at: startedAt,
      skipped_kept: skippedKept,
    })

    try {
      // Kept runs sit at the far end of the expiry index, which no batch reaches: counted there.
      skippedKept = (await countKept(this.db)).kept_expired
      // Until the online upgrade has filled in every expiry and built its indexes, the table's rows are read instead.
      const beforeBackfill = await this.upgrade.anyOf(EXPIRY_TASKS)
      if (beforeBackfill) {
        if (dryRun) {
          wouldDelete = await countExpired(this.db, maxRows ?? null, true)
        } else {
          await purgeUnfilled(this.db, batchSize, maxRows, progress)
        }
      } else {
        await this.fillMissingExpiries(batchSize)
        if (dryRun) {
          wouldDelete = await countExpired(this.db, maxRows ?? null)
        } else {
          await this.deleteInBatches(batchSize, maxRows, progress)
        }
      }
    } catch (error) {
      const failed = record(describe(error))
      this.recorder.purged(
        trigger,
        dryRun ? 0 : failed.deleted,
        failed.duration_ms,
        true
      )
      await insertPurgeRecord(this.db, { ...failed, trigger })
      this.logger.error(
        `Workflow execution purge (${trigger}) failed after deleting ${failed.deleted} rows in ${failed.batches} batches: ${failed.error}`
      )
      throw error
    }

    const done = record(null)
    if (!dryRun) {
      this.recorder.purged(trigger, done.deleted, done.duration_ms, false)
    }
    // A synchronous commit: it flushes the batches' WAL too, which they did not wait for.
    const id = await insertPurgeRecord(this.db, { ...done, trigger })
    return {
      id,
      dry_run: dryRun,
      deleted: dryRun ? 0 : done.deleted,
      ...(dryRun ? { would_delete: wouldDelete } : {}),
      batches: done.batches,
      duration_ms: done.duration_ms,
      longest_batch_ms: done.longest_batch_ms,
      oldest_remaining: await oldestExecutionCreatedAt(this.db),
      skipped_kept: done.skipped_kept,
    }
  }

  /**
   * Keeps a finished run from every purge until `unkeep`, recording who and
   * why. A run in flight is refused: it has no expiry yet, and the one its end
   * gives it would silently replace the keep; keep it once it has finished.
   */
  async keep(
    id: string,
    keptBy: string | null,
    reason: string
  ): Promise<KeptExecutionRow> {
    const kept = await keepExecution(this.db, id, keptBy, reason)
    if (kept) {
      return kept
    }
    const state = await executionState(this.db, id)
    if (state === undefined) {
      throw new MedusaError(
        MedusaError.Types.NOT_FOUND,
        `WorkflowExecution with id: ${id} was not found`
      )
    }
    throw new MedusaError(
      MedusaError.Types.NOT_ALLOWED,
      `Only a finished execution can be kept; ${id} is ${state} (keep it once it has finished: until then no purge touches it)`
    )
  }

  /** Stops keeping a run: its own expiry applies again, and a run already past it goes with the next purge pass. */
  async unkeep(id: string): Promise<{ id: string; expires_at: Date | null }> {
    const unkept = await unkeepExecution(this.db, id)
    if (!unkept) {
      throw new MedusaError(
        MedusaError.Types.NOT_FOUND,
        `No kept WorkflowExecution with id: ${id}`
      )
    }
    return unkept
  }

  async erase(input: EraseExecutionsInput): Promise<EraseResult> {
    const { transaction_ids, actor } = checkEraseInput(input)
    const startedAt = new Date()
    const started = performance.now()
    const deleted = await eraseTransactions(this.db, transaction_ids)
    const duration = Math.round(performance.now() - started)
    const id = await insertPurgeRecord(this.db, {
      trigger: "erase",
      actor: actor ?? null,
      dry_run: false,
      deleted,
      batches: 1,
      duration_ms: duration,
      longest_batch_ms: duration,
      transaction_ids,
      error: null,
      started_at: startedAt,
      skipped_kept: 0,
    })
    return { id, deleted, transaction_ids }
  }

  // Rows Medusa's engine finished have a retention but no expiry yet.
  private async fillMissingExpiries(batchSize: number): Promise<void> {
    while ((await fillMissingExpiry(this.db, batchSize)) === batchSize) {
      // Short batches until none is full.
    }
  }

  /** Reads IDX_workflow_execution_expires_at from where the last batch got to, in batches sized by nextBatchSize. */
  private async deleteInBatches(
    maxBatchSize: number,
    maxRows: number | undefined,
    progress: PurgeProgress
  ): Promise<void> {
    let size = Math.min(maxBatchSize, FIRST_BATCH_SIZE)
    let from: Date | null = null
    while (maxRows === undefined || progress.deleted < maxRows) {
      const limit =
        maxRows === undefined
          ? size
          : Math.min(size, maxRows - progress.deleted)
      const batchStarted = performance.now()
      const { deleted, reached } = await inSpan(
        "workflow_engine.purge.batch",
        { "workflow_engine.purge.limit": limit },
        () => purgeExpiredBatch(this.db, limit, from)
      )
      const elapsed = performance.now() - batchStarted
      progress.longest = Math.max(progress.longest, elapsed)
      if (deleted === 0) {
        return
      }
      progress.batches++
      progress.deleted += deleted
      from = reached
      // A short batch means nothing expired is left that another purger does not hold.
      if (deleted < limit) {
        return
      }
      size = nextBatchSize(
        size,
        elapsed,
        Math.min(MIN_BATCH_SIZE, maxBatchSize),
        maxBatchSize
      )
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
