import {
  DistributedTransactionType,
  IDistributedSchedulerStorage,
  IDistributedTransactionStorage,
  SchedulerOptions,
  TransactionCheckpoint,
  TransactionOptions,
  TransactionStep,
} from "@medusajs/framework/orchestration"
import { Logger } from "@medusajs/framework/types"
import { linkRunTrace, noteRunTrace } from "./metrics/run-trace"
import { ClusterSchedules } from "./schedules/cluster-schedules"
import { CallsInHand, inHand } from "./storage/calls-in-hand"
import { CheckpointStore } from "./storage/checkpoint-store"
import { SaveOptions } from "./storage/concurrent-saves"
import { untilReachable } from "./storage/connection-loss"
import { fencedOutMessage, noteRefusal, ownershipOf } from "./storage/fencing"
import { HandlerRun } from "./storage/handler-notes"
import { heldCheckpoints } from "./storage/held-checkpoints"
import { executionOf } from "./storage/seen-versions"
import { TimerSpec } from "./timers/timer-spec"
import { DurableTimers } from "./timers/durable-timers"
import { RunFence } from "./timers/sql/run-fence"
import { timerFor, timerKey } from "./timers/timer-keys"

/** What the adapter hands Medusa's calls to. */
export type AdapterParts = {
  instanceId: string
  checkpoints: CheckpointStore
  timers: DurableTimers
  schedules: ClusterSchedules
  /** The audited purge pass (retention/), for the contract's clearExpiredExecutions. */
  purge: () => Promise<unknown>
}

/**
 * Medusa's storage interface for workflows, installed as the storage of
 * DistributedTransaction and WorkflowScheduler, so every workflow run in the
 * process goes through it: checkpoints go to storage/, their timers to the
 * cluster's timers (timers/), the workflow schedules to the cluster's
 * schedules (schedules/). Each call is in hand until it settles, so a
 * shutdown waits for it.
 */
export class StorageAdapter
  implements IDistributedTransactionStorage, IDistributedSchedulerStorage
{
  constructor(
    private readonly logger: Logger,
    private readonly parts: AdapterParts
  ) {}

  /** What a shutdown waits for before the pool goes (see calls-in-hand). */
  readonly callsInHand = new CallsInHand()

  /** Says, once at start, what the database lacks for the engine; false when it cannot work on it at all. */
  async checkSchema(): Promise<boolean> {
    return await this.parts.checkpoints.checkSchema()
  }

  @inHand
  async get(
    key: string,
    options?: TransactionOptions & { isCancelling?: boolean }
  ): Promise<TransactionCheckpoint | undefined> {
    const checkpoint = await this.parts.checkpoints.get(key, options)
    if (checkpoint) {
      linkRunTrace(checkpoint.flow)
    }
    return checkpoint
  }

  @inHand
  async save(
    key: string,
    data: TransactionCheckpoint,
    ttl?: number,
    options?: SaveOptions
  ): Promise<TransactionCheckpoint> {
    noteRunTrace(data.flow)
    return await this.parts.checkpoints.save(key, data, ttl, options)
  }

  /** Not Medusa's: an async step's handler returned (see storage/handler-notes); a shutdown waits for the note. */
  @inHand
  async noteAwaiting(
    run: HandlerRun,
    stepId: string,
    attempt: number
  ): Promise<void> {
    await this.parts.checkpoints.noteAwaiting(run, stepId, attempt)
  }

  @inHand
  async scheduleRetry(
    transaction: DistributedTransactionType,
    step: TransactionStep,
    _timestamp: number,
    intervalSeconds: number
  ): Promise<void> {
    const kind = intervalSeconds > 0 ? "retry" : "continue"
    await this.setTimer(
      transaction,
      `setting its ${kind} timer`,
      timerFor(kind, transaction, step),
      intervalSeconds * 1000
    )
  }

  @inHand
  async clearRetry(
    transaction: DistributedTransactionType,
    step: TransactionStep
  ): Promise<void> {
    const { modelId, transactionId } = transaction
    await this.clearTimers(transaction, "clearing its retry timers", [
      timerKey("retry", modelId, transactionId, step),
      timerKey("continue", modelId, transactionId, step),
    ])
  }

  @inHand
  async scheduleTransactionTimeout(
    transaction: DistributedTransactionType,
    _timestamp: number,
    intervalSeconds: number
  ): Promise<void> {
    await this.setTimer(
      transaction,
      "setting its transaction timeout",
      timerFor("transaction_timeout", transaction),
      intervalSeconds * 1000
    )
  }

  /**
   * The orchestrator calls this without waiting for it (a rejection would end
   * the process), so a failure is logged here; the timer left behind is
   * dropped when it fires, its run being over (see stale-timer).
   */
  @inHand
  async clearTransactionTimeout(
    transaction: DistributedTransactionType
  ): Promise<void> {
    const { modelId, transactionId } = transaction
    await this.clearTimers(transaction, "clearing its transaction timeout", [
      timerKey("transaction_timeout", modelId, transactionId),
    ]).catch((error) =>
      this.logger.warn(
        `Workflow ${modelId} (transaction ${transactionId}): could not clear its timeout: ${error}`
      )
    )
  }

  @inHand
  async scheduleStepTimeout(
    transaction: DistributedTransactionType,
    step: TransactionStep,
    _timestamp: number,
    intervalSeconds: number
  ): Promise<void> {
    // Written now: the orchestrator checks the step's deadline after this and before it runs the step, so that a
    // slow write misses the deadline there rather than starting the step late.
    await this.setTimer(
      transaction,
      "setting a step timeout",
      timerFor("step_timeout", transaction, step),
      intervalSeconds * 1000,
      { writtenNow: true }
    )
  }

  @inHand
  async clearStepTimeout(
    transaction: DistributedTransactionType,
    step: TransactionStep
  ): Promise<void> {
    const { modelId, transactionId } = transaction
    await this.clearTimers(transaction, "clearing a step timeout", [
      timerKey("step_timeout", modelId, transactionId, step),
    ])
  }

  /**
   * Sets a timer of the run by the statement of the checkpoint its execution
   * holds, when it holds one (see held-checkpoints); else on its own, once
   * what the run holds is written: it may fire on another instance at once.
   * With `writtenNow`, the call returns once the timer is written, whichever
   * statement wrote it.
   */
  private async setTimer(
    transaction: DistributedTransactionType,
    what: string,
    timer: TimerSpec,
    delayMs: number,
    { writtenNow = false }: { writtenNow?: boolean } = {}
  ): Promise<void> {
    const run = {
      workflowId: transaction.modelId,
      transactionId: transaction.transactionId,
    }
    let carried = false
    const attached = heldCheckpoints.attach(
      executionOf(transaction.getFlow()),
      timer.key,
      () => {
        const along = this.parts.timers.setWith(timer, delayMs)
        return {
          ...along,
          committed: async (result) => {
            carried = true
            await along.committed?.(result)
          },
        }
      }
    )
    if (attached && !writtenNow) {
      return
    }
    await heldCheckpoints.release(run)
    // A held write that failed, not refused (the release throws a refusal), carried no timer: it is set on its own.
    if (!carried) {
      await this.timerWrite(transaction, what, (fence) =>
        this.parts.timers.set(timer, delayMs, fence)
      )
    }
  }

  /** Clears timers of the run; one still waiting on a held checkpoint is not set at all. */
  private async clearTimers(
    transaction: DistributedTransactionType,
    what: string,
    keys: string[]
  ): Promise<void> {
    const run = {
      workflowId: transaction.modelId,
      transactionId: transaction.transactionId,
    }
    heldCheckpoints.drop(run, keys)
    const flow = transaction.getFlow()
    await this.timerWrite(transaction, what, (fence) =>
      this.parts.timers.clear(run, keys, fence, () =>
        this.parts.checkpoints.versionSeenBy(flow)
      )
    )
  }

  /**
   * A timer write for a run, fenced as its checkpoints are (a refused one is
   * logged and told to the call, and changes nothing). Setting a timer again
   * replaces it, clearing one twice clears it: both may be sent again after a
   * lost connection.
   */
  private async timerWrite(
    transaction: DistributedTransactionType,
    what: string,
    work: (fence: RunFence) => Promise<boolean>
  ): Promise<void> {
    const flow = transaction.getFlow()
    const { epoch } = ownershipOf(flow)
    const applied = await untilReachable(
      this.logger,
      `setting a timer of run ${transaction.modelId}:${transaction.transactionId}`,
      () => work({ run_id: flow.runId, epoch })
    )
    if (!applied) {
      const run = {
        workflowId: transaction.modelId,
        transactionId: transaction.transactionId,
      }
      const message = fencedOutMessage(
        run,
        this.parts.instanceId,
        what,
        epoch,
        undefined
      )
      this.logger.warn(message)
      noteRefusal(message)
    }
  }

  /**
   * Part of the orchestrator's storage contract, which nothing in Medusa 2.21
   * calls; it runs the same audited pass as the scheduled purge.
   */
  @inHand
  async clearExpiredExecutions(): Promise<void> {
    await this.parts.purge()
  }

  @inHand
  async schedule(
    jobDefinition: string | { jobId: string },
    schedulerOptions: SchedulerOptions
  ): Promise<void> {
    const jobId =
      typeof jobDefinition === "string" ? jobDefinition : jobDefinition.jobId
    await this.parts.schedules.schedule(jobId, schedulerOptions)
  }

  @inHand
  async remove(jobId: string): Promise<void> {
    await this.parts.schedules.remove(jobId)
  }

  @inHand
  async removeAll(): Promise<void> {
    await this.parts.schedules.removeAll()
  }
}
