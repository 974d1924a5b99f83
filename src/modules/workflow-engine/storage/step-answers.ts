import { AsyncLocalStorage } from "async_hooks"
import { MedusaError, TransactionStepStatus } from "@medusajs/framework/utils"
import { StoredStep, stepsOf } from "../stored-flow"
import { FINISHED_STATES } from "../transaction-states"
import { StoredCheckpointRow } from "./sql/types"

/**
 * setStepSuccess and setStepFailure are applied once per waiting step.
 *
 * Medusa's orchestrator checks that the step is waiting on the checkpoint it
 * loaded; two callers (in two processes, or in one) can both load it waiting,
 * and each would then apply its answer and run the steps after it. So each
 * answer remembers the step as it loaded it, and the storage saves the answer
 * only while the stored step is still so, under the run's row lock: the first
 * answer saved wins and every other one is refused with a NOT_ALLOWED error
 * saying the step was already answered. A caller that loads the step after it
 * was answered gets the same kind of error at once.
 *
 * The answer travels with the call (an AsyncLocalStorage), not with the
 * checkpoint: the orchestrator hands the storage fresh copies of its flow.
 */

export type StepAnswerKey = {
  workflowId: string
  transactionId: string
  /** The step's action, as the idempotency key names it. */
  action: string
  /** The phase answered: the step's invoke or its compensation. */
  phase: "invoke" | "compensate"
  outcome: "success" | "failure" | "retry"
  /**
   * The step's attempts as the caller saw it when it decided to act (the
   * bulk retry's read of the run): a load that finds another count refuses,
   * since the step was invoked again since then.
   */
  expectedAttempts?: number
}

/** The answered step as the answer found it when it loaded the run. */
type BasedOn = {
  stepId: string
  state: string
  status: string
  attempts: number
  /** When a retry of it was scheduled (Medusa's `retryRescheduledAt`), if one is pending. */
  rescheduledAt: number | null
}

export class StepAnswer {
  private basedOn: BasedOn | undefined
  private saved = false
  private refusal: MedusaError | undefined

  constructor(readonly key: StepAnswerKey) {}

  /**
   * Called with each load of the run during the answer. The first one must
   * find the step waiting; a load that follows a refused save (the
   * orchestrator reloads to retry it) repeats the refusal, so that the
   * answer stops there instead of going on with the steps after it.
   */
  loaded(
    row: StoredCheckpointRow | undefined,
    { idempotent }: { idempotent?: boolean }
  ): void {
    if (this.refusal) {
      throw this.refusal
    }
    if (this.basedOn || this.saved || !row?.execution) {
      return
    }
    const flow = row.execution
    if (FINISHED_STATES.has(flow.state) && !idempotent) {
      throw this.refuse(
        `transaction "${this.key.transactionId}" has already finished (${flow.state})`
      )
    }
    const step = stepOf(flow, this.key.action)
    if (!step) {
      return // Medusa's own check says the action is unknown.
    }
    const { state, status } = step[this.key.phase] ?? {
      state: "unknown",
      status: "unknown",
    }
    if (status !== TransactionStepStatus.WAITING) {
      throw this.refuse(
        `${this.stepName()} is not waiting for an answer (${state}, ${status})${answeredHint(status)}`
      )
    }
    const rescheduledAt = step.retryRescheduledAt ?? null
    const expected = this.key.expectedAttempts
    if (expected !== undefined && (step.attempts ?? 0) !== expected) {
      throw this.refuse(
        `${this.stepName()} was invoked again since it was read (attempt ${step.attempts ?? 0}, not ${expected}): another caller answered or retried it`
      )
    }
    if (this.key.outcome === "retry" && rescheduledAt !== null) {
      throw this.refuse(
        `${this.stepName()} has a retry scheduled already: it was answered`
      )
    }
    this.basedOn = {
      stepId: step.id,
      state,
      status,
      attempts: step.attempts ?? 0,
      rescheduledAt,
    }
  }

  /** Whether a save of this step is the answer itself (its first save), which must be checked against the stored step. */
  isAnswerSave(stepId: string | undefined): boolean {
    return !this.saved && !!this.basedOn && this.basedOn.stepId === stepId
  }

  /** Under the row lock: refuses the answer when the stored step is no longer as the answer found it. */
  assertStillWaiting(stored: StoredCheckpointRow | undefined): void {
    const basedOn = this.basedOn!
    const step = stored?.execution
      ? (stepsOf(stored.execution)[basedOn.stepId] as StoredStep | undefined)
      : undefined
    if (!step) {
      throw this.refuse(
        `${this.stepName()} was already answered by another caller (the run has finished)`
      )
    }
    const { state, status } = step[this.key.phase] ?? {
      state: "unknown",
      status: "unknown",
    }
    const retriedSince =
      this.key.outcome === "retry" &&
      (step.retryRescheduledAt ?? null) !== basedOn.rescheduledAt
    if (
      state !== basedOn.state ||
      status !== basedOn.status ||
      (step.attempts ?? 0) !== basedOn.attempts ||
      retriedSince
    ) {
      throw this.refuse(
        `${this.stepName()} was already answered by another caller (it is now ${state}, ${status})`
      )
    }
  }

  /** After the answer's save committed: later saves of the run are the run going on. */
  markSaved(): void {
    this.saved = true
  }

  private refuse(reason: string): MedusaError {
    this.refusal = new MedusaError(
      MedusaError.Types.NOT_ALLOWED,
      this.key.outcome === "retry"
        ? `Cannot retry step: ${reason}`
        : `Cannot set step ${this.key.outcome}: ${reason}`
    )
    return this.refusal
  }

  private stepName(): string {
    return `step "${this.key.action}" of transaction "${this.key.transactionId}"`
  }
}

const answers = new AsyncLocalStorage<StepAnswer>()

/** Runs `work` (the orchestrator's answer to a step) as that answer. */
export function answeringStep<T>(
  key: StepAnswerKey,
  work: () => Promise<T>
): Promise<T> {
  return answers.run(new StepAnswer(key), work)
}

/** The answer the current call is giving to a step of this run, if any. */
export function currentAnswer(
  workflowId: string,
  transactionId: string
): StepAnswer | undefined {
  const answer = answers.getStore()
  return answer?.key.workflowId === workflowId &&
    answer.key.transactionId === transactionId
    ? answer
    : undefined
}

function stepOf(
  flow: { steps?: object },
  action: string
): StoredStep | undefined {
  return Object.values(stepsOf(flow)).find(
    (step) => step.definition?.action === action
  )
}

function answeredHint(status: string): string {
  return status === TransactionStepStatus.IDLE
    ? ""
    : ": it was already answered"
}
