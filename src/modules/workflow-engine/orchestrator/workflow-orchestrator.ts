import {
  DistributedTransactionEvents,
  DistributedTransactionType,
  TransactionHandlerType,
  TransactionOrchestrator,
} from "@medusajs/framework/orchestration"
import {
  Context,
  IdempotencyKeyParts,
  Logger,
  MedusaContainer,
} from "@medusajs/framework/types"
import {
  isString,
  MedusaError,
  TransactionState,
  TransactionStepState,
  TransactionStepStatus,
} from "@medusajs/framework/utils"
import { MedusaWorkflow, resolveValue } from "@medusajs/framework/workflows-sdk"
import { generatedTransactionId } from "../storage/ids"
import { NewTransactions } from "../storage/new-transactions"
import { refusingFencedOut } from "../storage/fencing"
import { handlerNotesStored } from "../storage/handler-notes"
import { HeldRun, heldCheckpoints } from "../storage/held-checkpoints"
import { answeringStep, StepAnswerKey } from "../storage/step-answers"
import { runKey } from "../run-key"
import { FAILED_STATES, isFinishedState } from "../transaction-states"
import { EngineRecorder, NO_RECORDER } from "../metrics/engine-recorder"
import { runResultOf } from "../metrics/run-result"
import { parseIdempotencyKey } from "./idempotency-key"
import { Subscriber, SubscriberRegistry, WorkflowEvent } from "./subscribers"

/**
 * Runs an answer to a step of `run`, with the clears of the run's timers it
 * makes held until it is done (timers/held-clears): an answer that ends the
 * run clears its step's timeout for nothing, the end removes it.
 */
export type HoldingTimerClears = <T>(
  run: { workflowId: string; transactionId: string },
  work: () => Promise<T>
) => Promise<T>

type WorkflowRef = string | { getName(): string }

type Handlers = Record<string, Function> | undefined

export type RunOptions = {
  input?: unknown
  transactionId?: string
  context?: Context
  resultFrom?: string | string[] | Symbol
  throwOnError?: boolean
  logOnError?: boolean
  events?: Handlers
  container?: MedusaContainer
}

export type StepResponseOptions = {
  idempotencyKey: string | IdempotencyKeyParts
  stepResponse?: unknown
  options?: Omit<RunOptions, "input" | "transactionId"> & {
    forcePermanentFailure?: boolean
  }
}

export type CancelOptions = Omit<RunOptions, "input" | "resultFrom"> & {
  transactionId: string
}

type WorkflowOutcome = {
  transaction: DistributedTransactionType
  result?: unknown
  errors?: { error: unknown }[]
  thrownError?: unknown
}

/**
 * Runs workflows by id for the module service and for the storage's timers:
 * starts, cancels and continues transactions, tells subscribers what happens,
 * and completes the parent step of an async sub-workflow when it finishes.
 */
export class WorkflowOrchestrator {
  readonly subscribers: SubscriberRegistry
  /** runs being continued after a stall (see continueIfStalled), so that a continuation that stalls again is not continued forever */
  private readonly continuing = new Set<string>()

  constructor(
    private readonly container: MedusaContainer,
    logger: Logger,
    private readonly newTransactions: NewTransactions = new NewTransactions(),
    private readonly recorder: EngineRecorder = NO_RECORDER,
    private readonly holdingTimerClears: HoldingTimerClears = (_run, work) =>
      work()
  ) {
    this.subscribers = new SubscriberRegistry(logger)
  }

  async run(workflowRef: WorkflowRef, options: RunOptions = {}) {
    const context: Context = { ...(options.context ?? {}) }
    const transactionId = options.transactionId ?? generatedTransactionId()
    context.transactionId = transactionId
    const workflowId = workflowIdOf(workflowRef)
    const workflow = this.workflow(workflowId)

    this.newTransactions.add(
      workflowId,
      transactionId,
      options.transactionId ? "given" : "generated"
    )
    let outcome: WorkflowOutcome
    try {
      outcome = await this.call({ workflowId, transactionId }, () =>
        workflow.run({
          input: options.input,
          throwOnError: false,
          logOnError: options.logOnError,
          resultFrom: options.resultFrom,
          context,
          events: this.events(workflowId, transactionId, options.events),
          container: options.container ?? this.container,
        })
      )
    } finally {
      this.newTransactions.forget(workflowId, transactionId)
    }

    outcome = await this.afterStep(workflowId, transactionId, outcome)
    throwIfAsked(outcome, options.throwOnError)
    return {
      acknowledgement: this.acknowledge(workflowId, transactionId, outcome),
      ...outcome,
    }
  }

  /**
   * With `onlyInFlight`, a run that is finished when its checkpoint is loaded
   * is left alone (Medusa's cancel would compensate a finished run): the bulk
   * cancel's promise never to touch a run that stopped matching.
   */
  async cancel(
    workflowRef: WorkflowRef,
    options: CancelOptions,
    { onlyInFlight = false }: { onlyInFlight?: boolean } = {}
  ) {
    const workflowId = workflowIdOf(workflowRef)
    const { transactionId } = options ?? ({} as CancelOptions)
    if (!transactionId) {
      throw new MedusaError(
        MedusaError.Types.INVALID_DATA,
        "transactionId is required to cancel a workflow"
      )
    }
    const workflow = this.workflow(workflowId)

    let transaction: DistributedTransactionType
    try {
      transaction = await this.getRunningTransaction(
        workflowId,
        transactionId,
        {
          ...(options.context ?? {}),
          isCancelling: true,
        }
      )
    } catch (error) {
      const notFound =
        error instanceof MedusaError &&
        error.type === MedusaError.Types.NOT_FOUND
      if (notFound && options.throwOnError === false) {
        return { acknowledgement: { transactionId, workflowId, exists: false } }
      }
      throw error
    }
    if (onlyInFlight && isFinishedState(transaction.getFlow().state)) {
      return { acknowledgement: { transactionId, workflowId, exists: true } }
    }

    let outcome: WorkflowOutcome = await this.call(
      { workflowId, transactionId },
      () =>
        workflow.cancel({
          transaction,
          throwOnError: false,
          logOnError: options.logOnError,
          context: options.context ?? {},
          events: this.events(workflowId, transactionId, options.events),
          container: options.container ?? this.container,
        })
    )

    outcome = await this.afterStep(workflowId, transactionId, outcome)
    throwIfAsked(outcome, options.throwOnError)
    const acknowledgement = {
      ...this.acknowledge(workflowId, transactionId, outcome),
      // A cancel that ends in "reverted" did what was asked.
      hasFailed:
        outcome.transaction.getFlow().state === TransactionState.FAILED,
      exists: true,
    }
    return { acknowledgement, ...outcome }
  }

  async getRunningTransaction(
    workflowId: string,
    transactionId: string,
    context: Context = {}
  ) {
    if (!workflowId || !transactionId) {
      throw new MedusaError(
        MedusaError.Types.INVALID_DATA,
        `${workflowId ? "transactionId" : "workflowId"} is required`
      )
    }
    const flow = this.workflow(workflowId)()
    return await flow.getRunningTransaction(transactionId, {
      ...context,
      transactionId,
    })
  }

  async retryStep({
    idempotencyKey,
    options = {},
  }: Omit<StepResponseOptions, "stepResponse">) {
    const { key, parts } = parseIdempotencyKey(idempotencyKey)
    let outcome: WorkflowOutcome = await this.call(parts, () =>
      this.workflow(parts.workflowId).retryStep({
        idempotencyKey: key,
        context: options.context,
        throwOnError: false,
        logOnError: options.logOnError,
        events: this.events(
          parts.workflowId,
          parts.transactionId,
          options.events
        ),
        container: options.container ?? this.container,
      })
    )
    outcome = await this.afterStep(
      parts.workflowId,
      parts.transactionId,
      outcome
    )
    throwIfAsked(outcome, options.throwOnError)
    return outcome
  }

  /**
   * retryStep, once: refused (NOT_ALLOWED) when the step is no longer waiting
   * or its retry is scheduled already when loaded, or when another caller
   * answered or retried it between that load and this retry's save, which is
   * checked under the run's row lock (see storage/step-answers). Medusa's
   * retryStep takes a second retry of a step whose first has not run yet;
   * this one does not, so that two callers retry a step once between them.
   * With `expectedAttempts` (the step's attempts when the caller read it), a
   * step invoked again since that read is refused too.
   */
  async retryStepOnce(
    call: Omit<StepResponseOptions, "stepResponse">,
    expectedAttempts?: number
  ) {
    const { parts } = parseIdempotencyKey(call.idempotencyKey)
    return await answeringStep(
      { ...answerKey(parts, "retry"), expectedAttempts },
      () => this.retryStep(call)
    )
  }

  async setStepSuccess(answer: StepResponseOptions) {
    return await this.answerStep("success", answer)
  }

  async setStepFailure(answer: StepResponseOptions) {
    return await this.answerStep("failure", answer)
  }

  /** An answer to a waiting step, applied once however many callers give one (see step-answers). */
  private async answerStep(
    kind: "success" | "failure",
    { idempotencyKey, stepResponse, options = {} }: StepResponseOptions
  ) {
    const { key, parts } = parseIdempotencyKey(idempotencyKey)
    const workflow = this.workflow(parts.workflowId)
    const args = {
      idempotencyKey: key,
      response: stepResponse,
      context: options.context,
      resultFrom: options.resultFrom,
      throwOnError: false,
      logOnError: options.logOnError,
      events: this.events(
        parts.workflowId,
        parts.transactionId,
        options.events
      ),
      container: options.container ?? this.container,
    }
    let outcome: WorkflowOutcome = await this.holdingTimerClears(
      { workflowId: parts.workflowId, transactionId: parts.transactionId },
      () =>
        answeringStep(answerKey(parts, kind), () =>
          this.call(parts, () =>
            kind === "success"
              ? workflow.registerStepSuccess(args)
              : workflow.registerStepFailure({
                  ...args,
                  forcePermanentFailure: options.forcePermanentFailure ?? false,
                })
          )
        )
    )
    outcome = await this.afterStep(
      parts.workflowId,
      parts.transactionId,
      outcome
    )
    throwIfAsked(outcome, options.throwOnError)
    return outcome
  }

  subscribe(args: {
    workflowId: string
    transactionId?: string
    subscriber: Function
    subscriberId?: string
  }) {
    this.subscribers.add(
      args.workflowId,
      args.transactionId,
      args.subscriber as Subscriber,
      args.subscriberId
    )
  }

  unsubscribe(args: {
    workflowId: string
    transactionId?: string
    subscriberOrId: string | Function
  }) {
    this.subscribers.remove(
      args.workflowId,
      args.transactionId,
      args.subscriberOrId
    )
  }

  private workflow(workflowId: string) {
    if (!workflowId) {
      throw new MedusaError(
        MedusaError.Types.NOT_FOUND,
        "Workflow ID is required"
      )
    }
    const workflow = MedusaWorkflow.getWorkflow(workflowId)
    if (!workflow) {
      throw new MedusaError(
        MedusaError.Types.NOT_FOUND,
        `Workflow with id "${workflowId}" not found.`
      )
    }
    return workflow
  }

  /** A stored run's end is recorded by the storage that writes it, wherever it ran; a plain one's here. */
  private recordPlainEnd(
    workflowId: string,
    transaction: DistributedTransactionType
  ): void {
    const flow = transaction.getFlow()
    const options =
      TransactionOrchestrator.getWorkflowOptions(workflowId) ?? flow.options
    const result = runResultOf(flow)
    if (options?.store || !result) {
      return
    }
    this.recorder.runEnded({ workflowId, result, startedAtMs: flow.startedAt })
  }

  private acknowledge(
    workflowId: string,
    transactionId: string,
    outcome: WorkflowOutcome
  ) {
    const flow = outcome.transaction.getFlow()
    return {
      transactionId,
      workflowId,
      parentStepIdempotencyKey: flow.metadata?.parentStepIdempotencyKey,
      hasFinished: outcome.transaction.hasFinished(),
      hasFailed: FAILED_STATES.has(flow.state),
    }
  }

  /**
   * One of Medusa's calls on a run: what it did is stored before its caller
   * hears of it (see held-checkpoints), and a write refused by the fence
   * fails it (see fencing).
   */
  private call<T>(run: HeldRun, work: () => Promise<T>): Promise<T> {
    return heldCheckpoints.within(run, () => refusingFencedOut(work))
  }

  /**
   * When a transaction finished: tell subscribers, and complete the step of
   * the parent workflow that waits for it (unless the parent is the one
   * cancelling it). Returns the outcome the caller is told: that of the
   * continued run when it had stalled (see continueIfStalled).
   */
  private async afterStep(
    workflowId: string,
    transactionId: string,
    given: WorkflowOutcome
  ): Promise<WorkflowOutcome> {
    await this.notesStored(workflowId, transactionId, given)
    const outcome = await this.continueIfStalled(
      workflowId,
      transactionId,
      given
    )
    const { transaction, result, errors } = outcome
    if (!transaction.hasFinished()) {
      return outcome
    }
    const flow = transaction.getFlow()
    this.subscribers.notify({
      eventType: "onFinish",
      workflowId,
      transactionId,
      state: flow.state,
      result,
      errors,
    })

    const { parentStepIdempotencyKey, cancelingFromParentStep } =
      flow.metadata ?? {}
    if (!parentStepIdempotencyKey || cancelingFromParentStep) {
      return outcome
    }
    const options = { logOnError: true }
    if (FAILED_STATES.has(flow.state)) {
      await this.setStepFailure({
        idempotencyKey: parentStepIdempotencyKey,
        stepResponse: errors,
        options,
      })
    } else {
      await this.setStepSuccess({
        idempotencyKey: parentStepIdempotencyKey,
        stepResponse: result,
        options,
      })
    }
    return outcome
  }

  /**
   * Medusa runs an async step's handler after the call that started it
   * returns. A handler that returns at once (one that only waits for an
   * answer) is noted before the call returns to its caller, so that a
   * process that exits right after (a `medusa exec` script, which ends
   * without a shutdown) leaves its runs waiting, not judged cut by
   * recovery (see recovery-plan). A handler still working is not waited
   * for: Medusa's callers do not wait for it either.
   */
  private async notesStored(
    workflowId: string,
    transactionId: string,
    outcome: WorkflowOutcome
  ): Promise<void> {
    if (!outcome.transaction.getFlow().hasAsyncSteps) {
      return
    }
    await new Promise((resolve) => setImmediate(resolve))
    await handlerNotesStored({ workflowId, transactionId })
  }

  /**
   * Medusa's orchestrator checks a step's timeout once more just before it
   * runs the step; when the deadline passed while the checkpoint before it
   * was written (a slow or restarting database), the step times out there,
   * the run is left waiting to compensate, and the loop ends without
   * compensating: nothing would continue the run. Continue it once, as its
   * timeout's timer would have.
   */
  private async continueIfStalled(
    workflowId: string,
    transactionId: string,
    outcome: WorkflowOutcome
  ): Promise<WorkflowOutcome> {
    const flow = outcome.transaction.getFlow()
    const timedOut = Object.values(flow.steps ?? {}).some(
      (step) => step.invoke?.state === TransactionStepState.TIMEOUT
    )
    const key = runKey({ workflowId, transactionId })
    if (
      flow.state !== TransactionState.WAITING_TO_COMPENSATE ||
      flow.hasWaitingSteps ||
      flow.cancelledAt ||
      !timedOut ||
      this.continuing.has(key)
    ) {
      return outcome
    }
    this.continuing.add(key)
    try {
      return await this.run(workflowId, {
        transactionId,
        throwOnError: false,
        logOnError: true,
      })
    } finally {
      this.continuing.delete(key)
    }
  }

  /** Orchestration events, forwarded to the caller's handlers and to subscribers. */
  private events(
    workflowId: string,
    transactionId: string,
    handlers: Handlers
  ): DistributedTransactionEvents {
    const notify = (
      event: Omit<WorkflowEvent, "workflowId" | "transactionId">
    ) => this.subscribers.notify({ workflowId, transactionId, ...event })
    const forward =
      (eventType: string) =>
      ({ transaction }: { transaction: DistributedTransactionType }) => {
        handlers?.[eventType]?.({ transaction })
        notify({ eventType })
      }
    const forwardStep =
      (eventType: string) =>
      ({ step, transaction }: any) => {
        handlers?.[eventType]?.({ step, transaction })
        notify({ eventType, step })
      }
    const stepErrors = (
      transaction: DistributedTransactionType,
      type: TransactionHandlerType,
      step: any
    ) =>
      transaction
        .getErrors(type)
        .filter((error) => error.action === step.definition.action)

    return {
      onBegin: forward("onBegin"),
      onResume: forward("onResume"),
      onTimeout: forward("onTimeout"),
      onCompensateBegin: forward("onCompensateBegin"),
      onFinish: ({ transaction, result, errors }: any) => {
        this.recordPlainEnd(workflowId, transaction)
        // Subscribers hear of the finish from afterStep, once it is stored.
        handlers?.onFinish?.({ transaction, result, errors })
      },
      onStepBegin: ({ step, transaction }: any) => {
        // Attempts start again at 1 when the step compensates.
        if (step.attempts > 1) {
          this.recorder.stepRetried(workflowId, step.definition.action)
        }
        handlers?.onStepBegin?.({ step, transaction })
        notify({ eventType: "onStepBegin", step })
      },
      onStepAwaiting: forwardStep("onStepAwaiting"),
      onStepSuccess: async ({ step, transaction }: any) => {
        const response = await resolveValue(
          transaction.getContext().invoke[step.definition.action],
          transaction
        )
        handlers?.onStepSuccess?.({ step, transaction, response })
        notify({ eventType: "onStepSuccess", step, response })
      },
      onStepFailure: ({ step, transaction }: any) => {
        if (
          step.getStates().status === TransactionStepStatus.PERMANENT_FAILURE
        ) {
          this.recorder.stepFailed(workflowId, step.definition.action)
        }
        const errors = stepErrors(
          transaction,
          TransactionHandlerType.INVOKE,
          step
        )
        handlers?.onStepFailure?.({ step, transaction, errors })
        notify({ eventType: "onStepFailure", step, errors })
      },
      onCompensateStepSuccess: ({ step, transaction }: any) => {
        const response =
          transaction.getContext().compensate[step.definition.action]
        handlers?.onCompensateStepSuccess?.({ step, transaction, response })
        notify({ eventType: "onCompensateStepSuccess", step, response })
      },
      onCompensateStepFailure: ({ step, transaction }: any) => {
        const errors = stepErrors(
          transaction,
          TransactionHandlerType.COMPENSATE,
          step
        )
        handlers?.onCompensateStepFailure?.({ step, transaction, errors })
        notify({ eventType: "onCompensateStepFailure", step, errors })
      },
    } as DistributedTransactionEvents
  }
}

function answerKey(
  parts: IdempotencyKeyParts,
  outcome: StepAnswerKey["outcome"]
): StepAnswerKey {
  const phase = parts.action === "compensate" ? "compensate" : "invoke"
  return {
    workflowId: parts.workflowId,
    transactionId: parts.transactionId,
    action: parts.stepId,
    phase,
    outcome,
  }
}

function workflowIdOf(ref: WorkflowRef): string {
  return isString(ref) ? ref : ref?.getName?.()
}

function throwIfAsked(outcome: WorkflowOutcome, throwOnError = true): void {
  if (!throwOnError) {
    return
  }
  if (outcome.thrownError) {
    throw outcome.thrownError
  }
  if (outcome.errors?.length) {
    throw outcome.errors[0].error
  }
}
