import {
  TransactionCheckpoint,
  TransactionFlow,
  TransactionOptions,
  TransactionOrchestrator,
} from "@medusajs/framework/orchestration"
import { Logger } from "@medusajs/framework/types"
import { MedusaError, TransactionState } from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { WrittenAlong } from "../db"
import { FINISHED_STATES } from "../transaction-states"
import { mustPersist } from "./checkpoint-policy"
import {
  assertNotOvertaken,
  assertNothingToMerge,
  CheckpointConflictError,
  isOver,
  isPlainSynchronous,
  SaveOptions,
  savedStep,
  toCheckpoint,
} from "./concurrent-saves"
import { untilReachable } from "./connection-loss"
import { StepEnds } from "./step-ends"
import { currentAnswer, StepAnswer } from "./step-answers"
import { alreadyStarted, NewTransactions } from "./new-transactions"
import {
  carryOwnership,
  fencedOut,
  fencedOutMessage,
  Ownership,
  OwnLease,
  takeOwnership,
} from "./fencing"
import { checkSchema } from "./schema-check"
import { deleteExecution } from "./sql/delete-execution"
import { insertExecution } from "./sql/insert-execution"
import { resourceIdsOf } from "../references/resource-ids"
import { loadLatestExecution } from "./sql/load-latest-execution"
import { lockExecution } from "./sql/lock-execution"
import { readOwner } from "./sql/read-owner"
import { ExecutionRow, NewExecutionRow, StoredOwner } from "./sql/types"
import { updateExecution } from "./sql/update-execution"
import { commitAlong, writeAlong } from "./sql/written-along"
import { SeenVersion, SeenVersions } from "./seen-versions"
import { foundOwnWrite } from "./resent-writes"
import { noteAwaitedStep } from "./sql/note-awaited-step"
import { awaitedMarker } from "./awaited-steps"
import { HandlerRun, handlerNotesKept } from "./handler-notes"
import { RunEvent } from "./sql/run-event"
import { heldCheckpoints } from "./held-checkpoints"

/**
 * Throws to stop a run started for a timer that no longer applies to the run
 * as stored (`stored`: undefined when nothing in flight is), before the run
 * acts on it. Called when a run loads its transaction, and under the row lock
 * of each locked write; the judge knows whether the call belongs to a timer's
 * run, and judges each moment once (timers/timer-judge). An `unchanged` write
 * found the row as the run loaded it: the judgment of the load holds for it.
 */
export type TimerJudge = (
  moment: "load" | "write" | "unchanged",
  run: { workflowId: string; transactionId: string },
  stored: TransactionFlow | undefined
) => void

/** A run whose end is being stored. */
export type RunEnd = {
  workflowId: string
  transactionId: string
  state: TransactionState
  stepIds: string[]
}

/**
 * What the checkpoints need from the parts above them, handed in by the
 * loader (loaders/engine.ts): storage/ imports none of them.
 */
export type CheckpointParts = {
  instanceId: string
  /** this instance's lease, as far as the fence needs it */
  lease: OwnLease
  /** named statements for the hot writes (the `preparedStatements` option) */
  preparedStatements: boolean
  /**
   * Seconds a run finished in `state` is kept, or undefined to remove it when
   * it finishes: the retention rule (retention/retention-policy).
   */
  retentionSeconds: (
    state: string,
    workflowRetentionSeconds: number | undefined
  ) => number | undefined
  judgeTimer: TimerJudge
  /**
   * What the run's load carries, read before the judge's "load" moment: the
   * claim of the armed timer whose firing loads it (see the timers' fire-timer).
   */
  loadedWith: (run: {
    workflowId: string
    transactionId: string
  }) => WrittenAlong[]
  /** What else a run's end changes, written by the statement that stores it (see WrittenAlong). */
  runEnd: (run: RunEnd) => WrittenAlong[]
  /**
   * The timer removals that the call making a write of the run holds (the
   * timer it fires, the clears it made), written by the write's statement;
   * none for a run's end, which removes every timer of the run.
   */
  removedWithWrite: (
    run: { workflowId: string; transactionId: string },
    fence: { run_id: string; epoch: number }
  ) => WrittenAlong | undefined
  /**
   * The event a checkpoint records, written with it (a run that failed or
   * reverted, a step held for a retry), or undefined: the events' rule
   * (events/run-events).
   */
  runEvent: (data: TransactionCheckpoint) => RunEvent | undefined
  /** Work a save leaves in flight (a held checkpoint's write), for a shutdown to wait for. */
  inHand: (work: Promise<unknown>) => void
  /** Told of each stored run's end once it is written (the metrics); never fails the save. */
  onRunEnded?: (flow: TransactionCheckpoint["flow"]) => void
}

/**
 * Keeps the checkpoints of stored and long-running workflows in
 * `workflow_execution`: loads and saves them under the concurrency guards
 * and the fence. Medusa's orchestrator reaches it through the storage
 * adapter (storage-adapter.ts), which hands timers and schedules to their
 * parts.
 */
export class CheckpointStore {
  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    private readonly parts: CheckpointParts,
    private readonly newTransactions: NewTransactions = new NewTransactions()
  ) {}

  private readonly stepEnds = new StepEnds()
  private readonly seenVersions = new SeenVersions()
  private readonly hot = {
    prepared: this.parts.preparedStatements,
    logger: this.logger,
  }

  /** Says, once at start, what the database lacks for the engine; false when it cannot work on it at all. */
  async checkSchema(): Promise<boolean> {
    // At start the database may be restarting: waited for, as the background work's start is (see supervisor).
    return await untilReachable(this.logger, "checking the schema", () =>
      checkSchema(this.db, this.logger)
    )
  }

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
    await heldCheckpoints.settled({ workflowId, transactionId })
    const along = this.parts.loadedWith({ workflowId, transactionId })
    const row = await untilReachable(
      this.logger,
      `loading run ${workflowId}:${transactionId}`,
      () => loadLatestExecution(this.db, workflowId, transactionId, along)
    )
    await commitAlong(along)
    currentAnswer(workflowId, transactionId)?.loaded(row, {
      idempotent: options?.idempotent,
    })
    this.parts.judgeTimer("load", { workflowId, transactionId }, row?.execution)
    if (!row?.execution) {
      return
    }
    if (
      start === "given" &&
      row.execution.state === TransactionState.NOT_STARTED
    ) {
      throw alreadyStarted(transactionId)
    }

    if (
      isOver(row.execution.state, {
        idempotent: options?.idempotent,
        isCancelling: options?.isCancelling,
      })
    ) {
      return
    }
    const checkpoint = toCheckpoint(row)
    carryOwnership(checkpoint.flow, row.owner_epoch)
    this.seenVersions.carry(checkpoint.flow, row.version)
    return checkpoint
  }

  /** The version of its run's row the execution of a live flow last loaded or wrote (see seen-versions). */
  versionSeenBy(flow: TransactionFlow): string | undefined {
    return this.seenVersions.current(flow)
  }

  async save(
    _key: string,
    data: TransactionCheckpoint,
    _ttl?: number,
    options?: SaveOptions
  ): Promise<TransactionCheckpoint> {
    const ownership = takeOwnership(data.flow)
    const seen = this.seenVersions.take(data.flow)
    this.stepEnds.stamp(data.flow)
    const flow = data.flow
    const answerSave = !!currentAnswer(
      flow.modelId,
      flow.transactionId
    )?.isAnswerSave(options?.stepId)
    // Whether it reaches the database (now or, held, later); the others stay in the process.
    const written =
      flow.state === TransactionState.NOT_STARTED ||
      answerSave ||
      mustPersist(data)
    const holding = written && !answerSave && this.mayHold(data, seen, options)
    // In the same turn as `take`: a held checkpoint of this execution being written now moves its version.
    if (
      written &&
      (await heldCheckpoints.beforeSave(seen.execution, !holding))
    ) {
      seen.version =
        this.seenVersions.lastWritten(seen.execution) ?? seen.version
    }
    if (holding) {
      this.parts.inHand(
        heldCheckpoints.hold(runOf(data), seen.execution, (along) =>
          this.send(data, ownership, seen, options, along)
        )
      )
      return data
    }
    await this.send(data, ownership, seen, options)
    return data
  }

  /** `along`: timers set while the checkpoint was held, written by its statement (see held-checkpoints). */
  private async send(
    data: TransactionCheckpoint,
    ownership: Ownership,
    seen: SeenVersion,
    options?: SaveOptions,
    along: WrittenAlong[] = []
  ): Promise<void> {
    // A lost connection most often means the statement never ran, and the next sending writes it. When the first
    // one did commit and only its reply was lost, the next finds its own write and is done (see resent-writes).
    let sendings = 0
    await untilReachable(
      this.logger,
      `storing run ${data.flow.modelId}:${data.flow.transactionId}`,
      () => this.write(data, ownership, seen, ++sendings > 1, options, along)
    ).catch((error) => {
      this.logFailedSave(data, error)
      throw error
    })
    if (FINISHED_STATES.has(data.flow.state)) {
      this.seenVersions.wrote(seen.execution, undefined)
      this.parts.onRunEnded?.(data.flow)
    }
  }

  /**
   * Whether a checkpoint may be held until something could act on it (see
   * held-checkpoints): a run going forward within one of the engine's calls,
   * saved by one execution at a time, with nothing the write itself decides
   * or records. Starts, ends, answers, compensations, parallel saves,
   * checkpoints with an event and writes that would need the lock are sent at
   * once. For a checkpoint that is written and is no answer's.
   */
  private mayHold(
    data: TransactionCheckpoint,
    seen: SeenVersion,
    options?: SaveOptions
  ): boolean {
    const flow = data.flow
    return (
      seen.version !== undefined &&
      heldCheckpoints.mayHold(runOf(data)) &&
      handlerNotesKept() &&
      flow.state === TransactionState.INVOKING &&
      !flow._v &&
      !options?._v &&
      !isPlainSynchronous(data, options) &&
      !this.parts.runEvent(data)
    )
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

  /** `resent`: an earlier sending of this write lost its connection, and may have committed. */
  private async write(
    data: TransactionCheckpoint,
    ownership: Ownership,
    seen: SeenVersion,
    resent: boolean,
    options?: SaveOptions,
    along: WrittenAlong[] = []
  ): Promise<void> {
    const flow = data.flow
    const epoch = ownership.epoch
    if (flow.state === TransactionState.NOT_STARTED) {
      const version =
        (await insertExecution(
          this.db,
          this.toNewRow(data, epoch, options),
          this.hot
        )) ?? (resent ? await this.ownStart(data) : undefined)
      if (version === undefined) {
        throw alreadyStarted(flow.transactionId)
      }
      this.seenVersions.wrote(seen.execution, version)
      return
    }
    await this.assertStillOwned(data, ownership)

    // An answer to a waiting step is always checked, whatever else would be written.
    const answer = currentAnswer(flow.modelId, flow.transactionId)
    if (answer?.isAnswerSave(options?.stepId)) {
      await this.writeChecked(data, epoch, seen, resent, options, answer)
      answer.markSaved()
      return
    }

    if (!mustPersist(data)) {
      return
    }

    if (
      isPlainSynchronous(data, options) &&
      (await this.writeUnlocked(data, epoch, options))
    ) {
      return
    }
    await this.writeChecked(
      data,
      epoch,
      seen,
      resent,
      options,
      undefined,
      along
    )
  }

  /** The version of the row a start's first sending committed, if the stored run is that start. */
  private async ownStart(
    data: TransactionCheckpoint
  ): Promise<string | undefined> {
    const stored = await loadLatestExecution(
      this.db,
      data.flow.modelId,
      data.flow.transactionId
    )
    return foundOwnWrite(data, stored, { removing: false })
      ? stored!.version
      : undefined
  }

  /**
   * A write that must hold against whatever else changed the run: one
   * conditional UPDATE when the row is still as this execution last saw it
   * (nothing can then have overtaken it or be left to merge, and an answer or
   * a timer finds the run as it loaded it), else the locked write, which
   * reads the stored run and decides. A finished run always takes the lock:
   * what its end changes besides commits with it.
   */
  private async writeChecked(
    data: TransactionCheckpoint,
    epoch: number,
    seen: SeenVersion,
    resent: boolean,
    options?: SaveOptions,
    answer?: StepAnswer,
    attached: WrittenAlong[] = []
  ): Promise<void> {
    const end = this.endOf(data)
    const removed = end.length
      ? undefined
      : this.parts.removedWithWrite(runOf(data), {
          run_id: data.flow.runId,
          epoch,
        })
    const along = [...end, ...attached, ...(removed ? [removed] : [])]
    if (seen.version !== undefined) {
      const written = await this.writeUnchanged(
        data,
        epoch,
        seen.version,
        options,
        along
      )
      if (written) {
        this.parts.judgeTimer("unchanged", runOf(data), undefined)
        await commitAlong(along)
        this.seenVersions.wrote(seen.execution, written.version)
        return
      }
    }
    const version = await this.writeLocked(
      data,
      epoch,
      resent,
      options,
      answer,
      along
    )
    await commitAlong(along)
    this.seenVersions.wrote(seen.execution, version)
  }

  /**
   * The conditional write of writeChecked, one statement with what a run's
   * end changes besides: undefined when the row is no longer as this
   * execution last saw it, else the version it left (none once removed).
   */
  private async writeUnchanged(
    data: TransactionCheckpoint,
    epoch: number,
    since: string,
    options: SaveOptions | undefined,
    along: WrittenAlong[]
  ): Promise<{ version?: string } | undefined> {
    const event = this.parts.runEvent(data)
    if (!this.shouldKeep(data, options)) {
      const removed = await deleteExecution(this.db, runKeyOf(data), {
        onlyIfUntouched: true,
        unchangedSince: since,
        epoch,
        event,
        along,
      })
      return removed ? {} : undefined
    }
    const version = await updateExecution(
      this.db,
      this.toRow(data, epoch, options),
      {
        ...this.hot,
        guard: {
          only: "unchanged",
          since: { version: since, step: savedStep(data, options) },
        },
        event,
        along,
      }
    )
    return version === undefined ? undefined : { version }
  }

  /**
   * What a finished run's write changes besides the run: its timers go, and
   * its finish is noticed by the other instances (runs that they advance may
   * have subscribers there; plain synchronous runs end in their caller).
   */
  private endOf(data: TransactionCheckpoint): WrittenAlong[] {
    const flow = data.flow
    return FINISHED_STATES.has(flow.state)
      ? this.parts.runEnd({
          workflowId: flow.modelId,
          transactionId: flow.transactionId,
          state: flow.state,
          stepIds: Object.keys(flow.steps),
        })
      : []
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
  private async assertStillOwned(
    data: TransactionCheckpoint,
    ownership: Ownership
  ): Promise<void> {
    if (!this.parts.lease.lapsedSince(ownership.since)) {
      return
    }
    await this.parts.lease.confirm()
    const stored = await readOwner(this.db, runKeyOf(data))
    if (stored && stored.owner_epoch !== ownership.epoch) {
      throw this.refuse(
        data,
        ownership.epoch,
        stored,
        `storing its ${data.flow.state} checkpoint`
      )
    }
  }

  /** Logs a write the fence refused, and what the orchestrator is to stop at. */
  private refuse(
    data: TransactionCheckpoint,
    epoch: number,
    stored: StoredOwner | undefined,
    what: string
  ): Error {
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
  private async writeUnlocked(
    data: TransactionCheckpoint,
    epoch: number,
    options?: SaveOptions
  ): Promise<boolean> {
    if (this.shouldKeep(data, options)) {
      const version = await updateExecution(
        this.db,
        this.toRow(data, epoch, options),
        {
          ...this.hot,
          guard: { only: "untouched" },
          event: this.parts.runEvent(data),
        }
      )
      return version !== undefined
    }
    return await deleteExecution(this.db, runKeyOf(data), {
      onlyIfUntouched: true,
      epoch,
      event: this.parts.runEvent(data),
    })
  }

  /** Returns the version the row was left at, undefined when it was removed. */
  private async writeLocked(
    data: TransactionCheckpoint,
    epoch: number,
    resent: boolean,
    options: SaveOptions | undefined,
    answer: StepAnswer | undefined,
    along: WrittenAlong[]
  ): Promise<string | undefined> {
    return await this.db.transaction(async (trx) => {
      const stored = await lockExecution(trx, runKeyOf(data))
      if (stored && stored.owner_epoch !== epoch) {
        throw this.refuse(
          data,
          epoch,
          stored,
          `storing its ${data.flow.state} checkpoint`
        )
      }
      const removing = !this.shouldKeep(data, options)
      if (resent && foundOwnWrite(data, stored, { removing })) {
        return stored?.version
      }
      this.parts.judgeTimer("write", runOf(data), stored?.execution)
      answer?.assertStillWaiting(stored)
      assertNotOvertaken(data, stored, options)

      if (stored?.execution && data.flow._v) {
        assertNothingToMerge(data, stored)
      }

      if (removing) {
        const removed = await deleteExecution(trx, runKeyOf(data), {
          onlyIfUntouched: false,
          epoch,
          event: this.parts.runEvent(data),
          along,
        })
        if (!removed) {
          await writeAlong(trx, along)
        }
        return undefined
      }
      if (stored) {
        return await updateExecution(trx, this.toRow(data, epoch, options), {
          ...this.hot,
          guard: { only: "any" },
          event: this.parts.runEvent(data),
          along,
        })
      }
      const version = await insertExecution(
        trx,
        this.toNewRow(data, epoch, options),
        this.hot
      )
      await writeAlong(trx, along)
      return version
    })
  }

  /**
   * A finished run stays when it has a retention (the injected rule), or
   * when it is a sub-workflow whose parent step still waits for it.
   */
  private shouldKeep(
    data: TransactionCheckpoint,
    options?: SaveOptions
  ): boolean {
    return (
      !FINISHED_STATES.has(data.flow.state) ||
      this.retentionSecondsOf(data, options) !== undefined ||
      !!data.flow.metadata?.parentStepIdempotencyKey
    )
  }

  private retentionSecondsOf(
    data: TransactionCheckpoint,
    options?: SaveOptions
  ): number | undefined {
    return this.parts.retentionSeconds(data.flow.state, options?.retentionTime)
  }

  private toRow(
    data: TransactionCheckpoint,
    epoch: number,
    options?: SaveOptions
  ): ExecutionRow {
    const retention = this.retentionSecondsOf(data, options) ?? null
    return {
      ...runKeyOf(data),
      execution: data.flow,
      context: { data: data.context, errors: data.errors },
      state: data.flow.state,
      retention_time: retention,
      // The clock of a retention starts when the run finishes.
      expires_in_seconds: FINISHED_STATES.has(data.flow.state)
        ? retention
        : null,
      owner_instance_id: this.parts.instanceId,
      owner_epoch: epoch,
    }
  }

  // The input never changes, so its ids are read once, for the insert; updates leave them as written.
  private toNewRow(
    data: TransactionCheckpoint,
    epoch: number,
    options?: SaveOptions
  ): NewExecutionRow {
    return {
      ...this.toRow(data, epoch, options),
      awaited_steps: handlerNotesKept() ? [] : null,
      resource_ids: resourceIdsOf(data.context?.payload),
    }
  }

  /**
   * Notes that an async step's handler returned, so that a recovery leaves
   * the step waiting for its answer (see awaited-steps, handler-notes); a
   * failure is logged.
   */
  async noteAwaiting(
    run: HandlerRun,
    stepId: string,
    attempt: number
  ): Promise<void> {
    const key = {
      workflow_id: run.workflowId,
      transaction_id: run.transactionId,
    }
    await untilReachable(
      this.logger,
      `noting the handler of step ${stepId} returned`,
      () => noteAwaitedStep(this.db, key, awaitedMarker(stepId, attempt))
    ).catch((error) =>
      this.logger.warn(
        `Workflow ${run.workflowId} (transaction ${run.transactionId}): could not note that step ${stepId} awaits its answer; ` +
          `should this instance die before the answer, the step is failed: ${error}`
      )
    )
  }
}

/** `dtrx:<workflow id>:<transaction id>`; the transaction id may itself hold colons. */
function parseKey(key: string): { workflowId: string; transactionId: string } {
  const [, workflowId, ...rest] = key.split(":")
  return { workflowId, transactionId: rest.join(":") }
}

function runOf(data: TransactionCheckpoint) {
  return {
    workflowId: data.flow.modelId,
    transactionId: data.flow.transactionId,
  }
}

function runKeyOf(data: TransactionCheckpoint) {
  return {
    workflow_id: data.flow.modelId,
    transaction_id: data.flow.transactionId,
    run_id: data.flow.runId,
  }
}
