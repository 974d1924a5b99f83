import { Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { ResolvedWorkflowEngineOptions } from "../options"
import { countExpired } from "../storage/sql/count-expired"
import { eraseTransactions } from "../storage/sql/erase-transactions"
import { fillMissingExpiry } from "../storage/sql/fill-missing-expiry"
import { insertPurgeRecord, PurgeRecord } from "../storage/sql/insert-purge-record"
import { oldestExecutionCreatedAt } from "../storage/sql/oldest-execution"
import { purgeExpiredBatch } from "../storage/sql/purge-expired-batch"
import { checkEraseInput, checkPurgeInput, EraseExecutionsInput, PurgeExpiredInput } from "./purge-input"

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

export type EraseResult = { id: string; deleted: number; transaction_ids: string[] }

/**
 * Keeps `workflow_execution` bounded: purges finished runs past their expiry
 * in short batches, erases transactions on request, and writes every pass to
 * the audit trail, `workflow_execution_purge`.
 */
export class ExecutionRetention {
  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    private readonly options: ResolvedWorkflowEngineOptions
  ) {}

  async purgeExpired(input: PurgeExpiredInput = {}, trigger: PurgeTrigger = "manual"): Promise<PurgeResult> {
    const { dryRun = false, batchSize = this.options.purgeBatchSize, maxRows, actor } = checkPurgeInput(input)
    const startedAt = new Date()
    const started = performance.now()
    const progress = { deleted: 0, batches: 0, longest: 0 }
    let wouldDelete: number | undefined

    const record = (error: string | null): Omit<PurgeRecord, "trigger"> => ({
      actor: actor ?? null,
      dry_run: dryRun,
      deleted: dryRun ? wouldDelete ?? 0 : progress.deleted,
      batches: progress.batches,
      duration_ms: Math.round(performance.now() - started),
      longest_batch_ms: Math.round(progress.longest),
      transaction_ids: null,
      error,
      started_at: startedAt,
    })

    try {
      await this.fillMissingExpiries(batchSize)
      if (dryRun) {
        wouldDelete = await countExpired(this.db, maxRows ?? null)
      } else {
        await this.deleteInBatches(batchSize, maxRows, progress)
      }
    } catch (error) {
      const failed = record(describe(error))
      await insertPurgeRecord(this.db, { ...failed, trigger })
      this.logger.error(
        `Workflow execution purge (${trigger}) failed after deleting ${failed.deleted} rows in ${failed.batches} batches: ${failed.error}`
      )
      throw error
    }

    const done = record(null)
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

  /**
   * Batches grow while they stay well under TARGET_BATCH_MS and shrink when
   * one takes longer, between MIN_BATCH_SIZE and the caller's `batchSize`, so
   * no batch holds its locks for long whatever the rows and the machine.
   */
  private async deleteInBatches(
    maxBatchSize: number,
    maxRows: number | undefined,
    progress: { deleted: number; batches: number; longest: number }
  ): Promise<void> {
    let size = Math.min(maxBatchSize, FIRST_BATCH_SIZE)
    let from: Date | null = null
    while (maxRows === undefined || progress.deleted < maxRows) {
      const limit = maxRows === undefined ? size : Math.min(size, maxRows - progress.deleted)
      const batchStarted = performance.now()
      const { deleted, reached } = await purgeExpiredBatch(this.db, limit, from)
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
      size = nextBatchSize(size, elapsed, maxBatchSize)
    }
  }
}

const TARGET_BATCH_MS = 50
const FIRST_BATCH_SIZE = 1000
const MIN_BATCH_SIZE = 100

function nextBatchSize(size: number, elapsedMs: number, max: number): number {
  if (elapsedMs > TARGET_BATCH_MS) {
    return Math.max(MIN_BATCH_SIZE, Math.floor((size * TARGET_BATCH_MS) / elapsedMs))
  }
  if (elapsedMs < TARGET_BATCH_MS / 2) {
    return Math.min(max, size * 2)
  }
  return size
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
