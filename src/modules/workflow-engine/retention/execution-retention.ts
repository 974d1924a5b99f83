import { Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { ResolvedWorkflowEngineOptions } from "../options"
import { countExpired } from "./sql/count-expired"
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
    })

    try {
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
    }
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
