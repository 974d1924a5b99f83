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
import { carryOwnership, fencedOut, fencedOutMessage, noteRefusal, Ownership, OwnLease, ownershipOf, takeOwnership } from "./fencing"
import { checkSchema } from "./schema-check"
import { deleteExecution } from "./sql/delete-execution"
import { insertExecution } from "./sql/insert-execution"
import { loadLatestExecution } from "./sql/load-latest-execution"
import { lockExecution } from "./sql/lock-execution"
import { readOwner } from "./sql/read-owner"
import { ExecutionRow, StoredCheckpointRow, StoredOwner } from "./sql/types"
import { updateExecution } from "./sql/update-execution"
import { noteAwaitedStep } from "./sql/note-awaited-step"
import { awaitedMarker } from "./awaited-steps"
import { finishId, notifyFinished } from "../notifications/sql/notify-finished"
import { DurableTimers } from "../timers/durable-timers"
import { timerToJudgeOnLoad, timerToJudgeOnWrite } from "../timers/firing-timer"
import { staleReason } from "../timers/stale-timer"
import { timerFor, timerKey } from "../timers/timer-keys"
import { TimerSpec } from "../timers/timer-spec"
import { RunFence } from "../timers/sql/run-fence"
import { ClusterSchedules } from "../schedules/cluster-schedules"

/** What the storage hands work to: the cluster's timers and schedules, and the purge. */
export type StorageParts = {
  instanceId: string
  /** this instance's lease, as far as the fence needs it */
  lease: OwnLease
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
    // At start the database may be restarting: waited for, as the background work's start is (see supervisor).
    return await untilReachable(this.logger, "checking the schema", () => checkSchema(this.db, this.logger))
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
    const checkpoint = toCheckpoint(row)
    carryOwnership(checkpoint.flow, row.owner_epoch)
    return checkpoint
  }

  @inHand
  async save(
    _key: string,
    data: TransactionCheckpoint,
    _ttl?: number,
    options?: SaveOptions
  ): Promise<TransactionCheckpoint> {
    const ownership = takeOwnership(data.flow)
    this.stepEnds.stamp(data.flow)
    // A lost connection most often means the statement never ran, and the second try writes it. When the first
    // one did commit, the second finds it: an update writes the same checkpoint again, a locked write is refused
    // as overtaken, a start is refused as already started (as Medusa's own retry of a save would have it).
    await untilReachable(this.logger, `storing run ${data.flow.modelId}:${data.flow.transactionId}`, () =>
      this.write(data, ownership, options)
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

  private async write(data: TransactionCheckpoint, ownership: Ownership, options?: SaveOptions): Promise<void> {
    const flow = data.flow
    const epoch = ownership.epoch
    if (flow.state === TransactionState.NOT_STARTED) {
      const inserted = await insertExecution(this.db, this.toRow(data, epoch, options), this.hot)
      if (!inserted) {
        throw alreadyStarted(flow.transactionId)
      }
      return
    }
    await this.assertStillOwned(data, ownership)

    // An answer to a waiting step is always checked under the lock, whatever else would be written.
    const answer = currentAnswer(flow.modelId, flow.transactionId)
    if (answer?.isAnswerSave(options?.stepId)) {
      await this.writeLocked(data, epoch, options, answer)
      answer.markSaved()
      return
    }

    if (!mustPersist(data)) {
      return
    }

    if (isPlainSynchronous(data, options) && (await this.writeUnlocked(data, epoch, options))) {
      return
    }
    await this.writeLocked(data, epoch, options)
  }

  /**
   * The fence of a run's checkpoints that are not written (a synchronous run
   * writes only its start and end, and runs every step in between): when this
   * instance's lease may have lapsed since the execution loaded the run (a
   * pause, a cut connection), it renews the lease, then reads whether the run
   * is still at the execution's epoch before letting it run another step.
   * Otherwise it costs nothing: a lease held since then means nobody can have
   * taken the run over.
   */
  private async assertStillOwned(data: TransactionCheckpoint, ownership: Ownership): Promise<void> {
    if (!this.parts.lease.lapsedSince(ownership.since)) {
      return
    }
    await this.parts.lease.confirm()
    const stored = await readOwner(this.db, runKeyOf(data))
    if (stored && stored.owner_epoch !== ownership.epoch) {
      throw this.refuse(data, ownership.epoch, stored, `storing its ${data.flow.state} checkpoint`)
    }
  }

  /** Logs a write the fence refused, and what the orchestrator is to stop at. */
  private refuse(data: TransactionCheckpoint, epoch: number, stored: StoredOwner | undefined, what: string): Error {
    const message = fencedOutMessage(
      { workflowId: data.flow.modelId, transactionId: data.flow.transactionId },
      this.parts.instanceId,
      what,
      epoch,
      stored
    )
    this.logger.warn(message)
    return fencedOut(message)
  }

  /**
   * One statement, no lock: enough for a synchronous run, which only its own
   * execution advances. Declines (returns false) when the stored run was
   * finished or cancelled meanwhile, so the locked path can decide.
   */
  private async writeUnlocked(data: TransactionCheckpoint, epoch: number, options?: SaveOptions): Promise<boolean> {
    if (this.shouldKeep(data, options)) {
      return await updateExecution(this.db, this.toRow(data, epoch, options), { ...this.hot, onlyIfUntouched: true })
    }
    return await deleteExecution(this.db, runKeyOf(data), { onlyIfUntouched: true, epoch })
  }

  private async writeLocked(
    data: TransactionCheckpoint,
    epoch: number,
    options?: SaveOptions,
    answer?: StepAnswer
  ): Promise<void> {
    await this.db.transaction(async (trx) => {
      const stored = await lockExecution(trx, runKeyOf(data))
      if (stored && stored.owner_epoch !== epoch) {
        throw this.refuse(data, epoch, stored, `storing its ${data.flow.state} checkpoint`)
      }
      this.assertTimerApplies(timerToJudgeOnWrite(data.flow.modelId, data.flow.transactionId), stored)
      answer?.assertStillWaiting(stored)
      assertNotOvertaken(data, stored, options)

      if (stored?.execution && data.flow._v) {
        assertNothingToMerge(data, stored)
      }

      if (!this.shouldKeep(data, options)) {
        await deleteExecution(trx, runKeyOf(data), { onlyIfUntouched: false, epoch })
      } else if (stored) {
        await updateExecution(trx, this.toRow(data, epoch, options), { ...this.hot, onlyIfUntouched: false })
      } else {
        await insertExecution(trx, this.toRow(data, epoch, options), this.hot)
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

  private toRow(data: TransactionCheckpoint, epoch: number, options?: SaveOptions): ExecutionRow {
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
      owner_epoch: epoch,
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
    await this.timerWrite(transaction, `setting its ${kind} timer`, (fence) =>
      this.parts.timers.set(timerFor(kind, transaction, step), intervalSeconds * 1000, fence)
    )
  }

  @inHand
  async clearRetry(transaction: DistributedTransactionType, step: TransactionStep): Promise<void> {
    const { modelId, transactionId } = transaction
    await this.timerWrite(transaction, "clearing its retry timers", (fence) =>
      this.parts.timers.clear(
        { workflowId: modelId, transactionId },
        [timerKey("retry", modelId, transactionId, step), timerKey("continue", modelId, transactionId, step)],
        fence
      )
    )
  }

  @inHand
  async scheduleTransactionTimeout(
    transaction: DistributedTransactionType,
    _timestamp: number,
    intervalSeconds: number
  ): Promise<void> {
    await this.timerWrite(transaction, "setting its transaction timeout", (fence) =>
      this.parts.timers.set(timerFor("transaction_timeout", transaction), intervalSeconds * 1000, fence)
    )
  }

  /**
   * The orchestrator calls this without waiting for it (a rejection would end
   * the process), so a failure is logged here; the timer left behind is
   * dropped when it fires, its run being over (see stale-timer).
   */
  @inHand
  async clearTransactionTimeout(transaction: DistributedTransactionType): Promise<void> {
    const { modelId, transactionId } = transaction
    await this.timerWrite(transaction, "clearing its transaction timeout", (fence) =>
      this.parts.timers.clear(
        { workflowId: modelId, transactionId },
        [timerKey("transaction_timeout", modelId, transactionId)],
        fence
      )
    ).catch((error) =>
      this.logger.warn(`Workflow ${modelId} (transaction ${transactionId}): could not clear its timeout: ${error}`)
    )
  }

  @inHand
  async scheduleStepTimeout(
    transaction: DistributedTransactionType,
    step: TransactionStep,
    _timestamp: number,
    intervalSeconds: number
  ): Promise<void> {
    await this.timerWrite(transaction, "setting a step timeout", (fence) =>
      this.parts.timers.set(timerFor("step_timeout", transaction, step), intervalSeconds * 1000, fence)
    )
  }

  @inHand
  async clearStepTimeout(transaction: DistributedTransactionType, step: TransactionStep): Promise<void> {
    const { modelId, transactionId } = transaction
    await this.timerWrite(transaction, "clearing a step timeout", (fence) =>
      this.parts.timers.clear(
        { workflowId: modelId, transactionId },
        [timerKey("step_timeout", modelId, transactionId, step)],
        fence
      )
    )
  }

  /**
   * Notes that an async step's handler returned, so that a recovery leaves
   * the step waiting for its answer (see awaited-steps). Called without
   * being waited for, when the orchestrator tells the step awaits: a failure
   * is logged.
   */
  @inHand
  async noteAwaiting(transaction: DistributedTransactionType, step: TransactionStep): Promise<void> {
    const run = { workflow_id: transaction.modelId, transaction_id: transaction.transactionId, run_id: transaction.getFlow().runId }
    await untilReachable(this.logger, `noting the handler of step ${step.id} returned`, () =>
      noteAwaitedStep(this.db, run, awaitedMarker(step.id, step.attempts))
    ).catch((error) =>
      this.logger.warn(
        `Workflow ${run.workflow_id} (transaction ${run.transaction_id}): could not note that step ${step.id} awaits its answer; ` +
          `should this instance die before the answer, the step is failed: ${error}`
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
      const run = { workflowId: transaction.modelId, transactionId: transaction.transactionId }
      const message = fencedOutMessage(run, this.parts.instanceId, what, epoch, undefined)
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

