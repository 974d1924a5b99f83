import {
  DistributedTransactionType,
  SkipExecutionError,
  IDistributedSchedulerStorage,
  IDistributedTransactionStorage,
  SchedulerOptions,
  TransactionCheckpoint,
  TransactionOptions,
  TransactionOrchestrator,
  TransactionStep,
} from "@medusajs/framework/orchestration"
import { Logger } from "@medusajs/framework/types"
import { MedusaError, TransactionState } from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { ResolvedWorkflowEngineOptions } from "../options"
import { retentionSecondsFor } from "../retention/retention-policy"
import { FINISHED_STATES } from "../transaction-states"
import { mustPersist } from "./checkpoint-policy"
import {
  assertNotOvertaken,
  assertNothingToMerge,
  CheckpointConflictError,
  isOver,
  isPlainSynchronous,
  SaveOptions,
  toCheckpoint,
} from "./concurrent-saves"
import { CallsInHand, inHand } from "./calls-in-hand"
import { untilReachable } from "./connection-loss"
import { StepEnds } from "./step-ends"
import { currentAnswer, StepAnswer } from "./step-answers"
import { alreadyStarted, NewTransactions } from "./new-transactions"
import { checkSchema } from "./schema-check"
import { deleteExecution } from "./sql/delete-execution"
import { insertExecution } from "./sql/insert-execution"
import { loadLatestExecution } from "./sql/load-latest-execution"
import { lockExecution } from "./sql/lock-execution"
import { ExecutionRow, StoredCheckpointRow } from "./sql/types"
import { updateExecution } from "./sql/update-execution"
import { finishId, notifyFinished } from "../notifications/sql/notify-finished"
import { DurableTimers } from "../timers/durable-timers"
import { timerToJudgeOnLoad, timerToJudgeOnWrite } from "../timers/firing-timer"
import { staleReason } from "../timers/stale-timer"
import { timerFor, timerKey } from "../timers/timer-keys"
import { TimerSpec } from "../timers/timer-spec"
import { ClusterSchedules } from "../schedules/cluster-schedules"

/** What the storage hands work to: the cluster's timers and schedules, and the purge. */
export type StorageParts = {
  instanceId: string
  timers: DurableTimers
  schedules: ClusterSchedules
  purge: () => Promise<unknown>
}

/**
 * Keeps the checkpoints of stored and long-running workflows in
 * `workflow_execution`, and hands their timers and the workflow schedules to
 * the cluster's (timers/, schedules/). Installed as the storage of
 * DistributedTransaction and WorkflowScheduler, so every workflow run in the
 * process goes through it.
 */
export class PostgresWorkflowStorage
  implements IDistributedTransactionStorage, IDistributedSchedulerStorage
{
  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    private readonly options: ResolvedWorkflowEngineOptions,
    private readonly parts: StorageParts,
    private readonly newTransactions: NewTransactions = new NewTransactions()
  ) {}

  /** What a shutdown waits for before the pool goes (see calls-in-hand). */
  readonly callsInHand = new CallsInHand()
  private readonly stepEnds = new StepEnds()
  private readonly hot = { prepared: this.options.preparedStatements, logger: this.logger }

  /** Says, once at start, what the database lacks for the engine; false when it cannot work on it at all. */
  async checkSchema(): Promise<boolean> {
    return await checkSchema(this.db, this.logger)
  }

  @inHand
  async get(
    key: string,
    options?: TransactionOptions & { isCancelling?: boolean }
  ): Promise<TransactionCheckpoint | undefined> {
    // Parsed workflow options always carry `hasAsyncSteps`; when they say the
    // workflow is not stored, nothing of it can be in the table.
    if (options && "hasAsyncSteps" in options && !options.store) {
      return
    }

    const { workflowId, transactionId } = parseKey(key)
    const start = this.newTransactions.take(workflowId, transactionId)
    if (start === "generated") {
      return
    }
    const row = await untilReachable(this.logger, `loading run ${workflowId}:${transactionId}`, () =>
      loadLatestExecution(this.db, workflowId, transactionId)
    )
    currentAnswer(workflowId, transactionId)?.loaded(row, { idempotent: options?.idempotent })
    this.assertTimerApplies(timerToJudgeOnLoad(workflowId, transactionId), row)
    if (!row?.execution) {
      return
    }
    if (start === "given" && row.execution.state === TransactionState.NOT_STARTED) {
      throw alreadyStarted(transactionId)
    }

    if (isOver(row.execution.state, { idempotent: options?.idempotent, isCancelling: options?.isCancelling })) {
      return
    }
    return toCheckpoint(row)
  }

  @inHand
  async save(
    _key: string,
    data: TransactionCheckpoint,
    _ttl?: number,
    options?: SaveOptions
  ): Promise<TransactionCheckpoint> {
    this.stepEnds.stamp(data.flow)
    // A lost connection most often means the statement never ran, and the second try writes it. When the first
    // one did commit, the second finds it: an update writes the same checkpoint again, a locked write is refused
    // as overtaken, a start is refused as already started (as Medusa's own retry of a save would have it).
    await untilReachable(this.logger, `storing run ${data.flow.modelId}:${data.flow.transactionId}`, () =>
      this.write(data, options)
    ).catch((error) => {
      this.logFailedSave(data, error)
      throw error
    })
    return data
  }

  /**
   * Medusa's orchestrator reports any failed first save of a run as
   * "Transaction already started", and retries a later one without saying
   * why: what the database answered is logged here, before it is lost. The
   * storage's own refusals (a run finished or overtaken elsewhere, a step
   * answer refused, a concurrent save to merge) are the orchestrator's to handle.
   */
  private logFailedSave(data: TransactionCheckpoint, error: unknown): void {
    if (
      TransactionOrchestrator.isExpectedError(error as Error) ||
      error instanceof CheckpointConflictError ||
      MedusaError.isMedusaError(error)
    ) {
      return
    }
    const { modelId, transactionId, state } = data.flow
    const code = (error as { code?: unknown })?.code
    this.logger.error(
      `Workflow ${modelId} (transaction ${transactionId}): storing the run (${state}) failed: ` +
        `${error instanceof Error ? error.message : String(error)}${typeof code === "string" ? ` (${code})` : ""}`
    )
  }

  private async write(data: TransactionCheckpoint, options?: SaveOptions): Promise<void> {
    const flow = data.flow
    if (flow.state === TransactionState.NOT_STARTED) {
      const inserted = await insertExecution(this.db, this.toRow(data, options), this.hot)
      if (!inserted) {
        throw alreadyStarted(flow.transactionId)
      }
      return
    }

    // An answer to a waiting step is always checked under the lock, whatever else would be written.
    const answer = currentAnswer(flow.modelId, flow.transactionId)
    if (answer?.isAnswerSave(options?.stepId)) {
      await this.writeLocked(data, options, answer)
      answer.markSaved()
      return
    }

    if (!mustPersist(data)) {
      return
    }

    if (isPlainSynchronous(data, options) && (await this.writeUnlocked(data, options))) {
      return
    }
    await this.writeLocked(data, options)
  }

  /**
   * One statement, no lock: enough for a synchronous run, which only its own
   * execution advances. Declines (returns false) when the stored run was
   * finished or cancelled meanwhile, so the locked path can decide.
   */
  private async writeUnlocked(data: TransactionCheckpoint, options?: SaveOptions): Promise<boolean> {
    if (this.shouldKeep(data, options)) {
      return await updateExecution(this.db, this.toRow(data, options), { ...this.hot, onlyIfUntouched: true })
    }
    return await deleteExecution(this.db, runKeyOf(data), { onlyIfUntouched: true })
  }

  private async writeLocked(data: TransactionCheckpoint, options?: SaveOptions, answer?: StepAnswer): Promise<void> {
    await this.db.transaction(async (trx) => {
      const stored = await lockExecution(trx, runKeyOf(data))
      this.assertTimerApplies(timerToJudgeOnWrite(data.flow.modelId, data.flow.transactionId), stored)
      answer?.assertStillWaiting(stored)
      assertNotOvertaken(data, stored, options)

      if (stored?.execution && data.flow._v) {
        assertNothingToMerge(data, stored)
      }

      if (!this.shouldKeep(data, options)) {
        await deleteExecution(trx, runKeyOf(data), { onlyIfUntouched: false })
      } else if (stored) {
        await updateExecution(trx, this.toRow(data, options), { ...this.hot, onlyIfUntouched: false })
      } else {
        await insertExecution(trx, this.toRow(data, options), this.hot)
      }
      // Runs that other instances advance may have subscribers there (the plain synchronous ones end in their caller).
      if (FINISHED_STATES.has(data.flow.state)) {
        // None of its timers applies any more, whatever the orchestrator cleared: none is left to fire after a restart.
        await this.parts.timers.clearRun(trx, data.flow.modelId, data.flow.transactionId, Object.keys(data.flow.steps))
        await notifyFinished(trx, {
          id: finishId(),
          workflow_id: data.flow.modelId,
          transaction_id: data.flow.transactionId,
          state: data.flow.state,
          instance_id: this.parts.instanceId,
        })
      }
    })
  }

  /**
   * Stops the run of a timer that no longer applies to what the run found
   * stored (see stale-timer), before the run acts on it.
   */
  private assertTimerApplies(timer: TimerSpec | undefined, row: StoredCheckpointRow | undefined): void {
    const reason = timer && staleReason(timer, row?.execution)
    if (reason) {
      this.logger.debug(`Workflow timer ${timer.key} dropped: ${reason}`)
      throw new SkipExecutionError(`Workflow timer ${timer.key} no longer applies: ${reason}`)
    }
  }

  /**
   * A finished run stays when it has a retention (see retention-policy), or
   * when it is a sub-workflow whose parent step still waits for it.
   */
  private shouldKeep(data: TransactionCheckpoint, options?: SaveOptions): boolean {
    return (
      !FINISHED_STATES.has(data.flow.state) ||
      this.retentionSecondsOf(data, options) !== undefined ||
      !!data.flow.metadata?.parentStepIdempotencyKey
    )
  }

  private retentionSecondsOf(data: TransactionCheckpoint, options?: SaveOptions): number | undefined {
    return retentionSecondsFor(data.flow.state, options?.retentionTime, this.options)
  }

  private toRow(data: TransactionCheckpoint, options?: SaveOptions): ExecutionRow {
    const retention = this.retentionSecondsOf(data, options) ?? null
    return {
      ...runKeyOf(data),
      execution: data.flow,
      context: { data: data.context, errors: data.errors },
      state: data.flow.state,
      retention_time: retention,
      // The clock of a retention starts when the run finishes.
      expires_in_seconds: FINISHED_STATES.has(data.flow.state) ? retention : null,
      owner_instance_id: this.parts.instanceId,
    }
  }

  @inHand
  async scheduleRetry(
    transaction: DistributedTransactionType,
    step: TransactionStep,
    _timestamp: number,
    intervalSeconds: number
  ): Promise<void> {
    const kind = intervalSeconds > 0 ? "retry" : "continue"
    await this.timerWrite(transaction, () => this.parts.timers.set(timerFor(kind, transaction, step), intervalSeconds * 1000))
  }

  @inHand
  async clearRetry(transaction: DistributedTransactionType, step: TransactionStep): Promise<void> {
    const { modelId, transactionId } = transaction
    await this.timerWrite(transaction, () =>
      this.parts.timers.clear([
        timerKey("retry", modelId, transactionId, step),
        timerKey("continue", modelId, transactionId, step),
      ])
    )
  }

  @inHand
  async scheduleTransactionTimeout(
    transaction: DistributedTransactionType,
    _timestamp: number,
    intervalSeconds: number
  ): Promise<void> {
    await this.timerWrite(transaction, () =>
      this.parts.timers.set(timerFor("transaction_timeout", transaction), intervalSeconds * 1000)
    )
  }

  /**
   * The orchestrator calls this without waiting for it (a rejection would end
   * the process), so a failure is logged here; the timer left behind is
   * dropped when it fires, its run being over (see stale-timer).
   */
  @inHand
  async clearTransactionTimeout(transaction: DistributedTransactionType): Promise<void> {
    await this.timerWrite(transaction, () =>
      this.parts.timers.clear([timerKey("transaction_timeout", transaction.modelId, transaction.transactionId)])
    ).catch((error) =>
      this.logger.warn(
        `Workflow ${transaction.modelId} (transaction ${transaction.transactionId}): could not clear its timeout: ${error}`
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
    await this.timerWrite(transaction, () =>
      this.parts.timers.set(timerFor("step_timeout", transaction, step), intervalSeconds * 1000)
    )
  }

  @inHand
  async clearStepTimeout(transaction: DistributedTransactionType, step: TransactionStep): Promise<void> {
    await this.timerWrite(transaction, () =>
      this.parts.timers.clear([timerKey("step_timeout", transaction.modelId, transaction.transactionId, step)])
    )
  }

  // Setting a timer again replaces it, clearing one twice clears it: both may be sent again after a lost connection.
  private timerWrite(transaction: DistributedTransactionType, work: () => Promise<void>): Promise<void> {
    return untilReachable(this.logger, `setting a timer of run ${transaction.modelId}:${transaction.transactionId}`, work)
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
  async schedule(jobDefinition: string | { jobId: string }, schedulerOptions: SchedulerOptions): Promise<void> {
    const jobId = typeof jobDefinition === "string" ? jobDefinition : jobDefinition.jobId
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

/** `dtrx:<workflow id>:<transaction id>`; the transaction id may itself hold colons. */
function parseKey(key: string): { workflowId: string; transactionId: string } {
  const [, workflowId, ...rest] = key.split(":")
  return { workflowId, transactionId: rest.join(":") }
}

function runKeyOf(data: TransactionCheckpoint) {
  return {
    workflow_id: data.flow.modelId,
    transaction_id: data.flow.transactionId,
    run_id: data.flow.runId,
  }
}

