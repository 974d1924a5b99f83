import {
  FindConfig,
  Logger,
  WorkflowExecutionDTO,
} from "@medusajs/framework/types"
import { MedusaError, TransactionHandlerType } from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { WorkflowOrchestrator } from "../orchestrator/workflow-orchestrator"
import { prepareFilters } from "../queries/execution-filters"
import { isRetryable, StoredStepForRetry } from "../retryable-step"
import { FINISHED_STATES } from "../transaction-states"
import { BulkActionName, checkBulkInput } from "./bulk-input"
import { insertBulkRecord } from "./sql/insert-bulk-record"

/** Why a bulk action left a run alone. */
export type BulkSkipReason =
  /** retry: no step of the run waits for a retry (or the one that does would not run again now, see retryable-step). */
  | "nothing_to_retry"
  /** The run finished before the action reached it (cancel acts on runs in flight only). */
  | "already_finished"
  /** The run no longer matches the filters when the action reaches it (or it is gone). */
  | "no_longer_matches"
  /** retry: another caller answered or retried its waiting step since the action read it. */
  | "answered_meanwhile"

/** What a bulk action did to one run. */
export type BulkRunOutcome = {
  id: string
  workflow_id: string
  transaction_id: string
  /** On a dry run, `would_retry` / `would_cancel` instead of `retried` / `cancelled`. */
  outcome:
    | "retried"
    | "cancelled"
    | "would_retry"
    | "would_cancel"
    | "skipped"
    | "failed"
  /** For `skipped`. */
  reason?: BulkSkipReason
  /** What the engine said, for `skipped` (answered meanwhile) and `failed`. */
  message?: string
  /** retry: the steps it retried (or would retry). */
  step_ids?: string[]
  /** cancel: the run's state after the cancel (compensating, reverted, …). */
  state?: string
}

/** What a bulk action did (or, on a dry run, would do). */
export type BulkActionResult = {
  /** Its entry in the bulk action audit trail. */
  id: string
  action: BulkActionName
  dry_run: boolean
  /** Runs the filters matched (up to maxRuns). */
  matched: number
  /** Runs retried or cancelled (on a dry run: that would be). */
  acted: number
  skipped: number
  failed: number
  skipped_by_reason: Partial<Record<BulkSkipReason, number>>
  /** More runs matched past maxRuns: run it again for them. */
  more: boolean
  batches: number
  duration_ms: number
  outcomes: BulkRunOutcome[]
}

/** The list's own query (filters checked, `q` resolved, as listWorkflowExecutions does). */
export type ListExecutions = (
  filters: Record<string, unknown>,
  config: FindConfig<WorkflowExecutionDTO>
) => Promise<WorkflowExecutionDTO[]>

type Run = Pick<
  WorkflowExecutionDTO,
  "id" | "workflow_id" | "transaction_id" | "state" | "execution"
>

const RUN_COLUMNS = [
  "id",
  "workflow_id",
  "transaction_id",
  "state",
  "execution",
] as const

/**
 * Retries or cancels the stored runs that match the list's filters, in
 * batches read by id (keyset: each batch starts after the last id of the one
 * before, so a batch costs the same however far it is), one run at a time.
 *
 * Each run is read again, with the filters, right before it is acted on: a
 * run that no longer matches, finished, or had its waiting step answered is
 * skipped with the reason. The retry itself goes through the orchestrator's
 * retryStepOnce, which checks under the run's row lock, at the very save of
 * the retry, that no other caller answered or retried the step since that
 * read: a run answered while the bulk runs is skipped, never retried twice.
 */
export class BulkActions {
  constructor(
    private readonly db: Knex,
    private readonly orchestrator: WorkflowOrchestrator,
    private readonly logger: Logger
  ) {}

  async run(input: unknown, list: ListExecutions): Promise<BulkActionResult> {
    const { action, filters, dryRun, actor, batchSize, maxRuns } =
      checkBulkInput(input)
    // The list's rules, before any query: a bad filter is refused with its field named.
    prepareFilters(filters)
    // The caller's filters stay where the list reads them (`q`, `resource_id` and `stuck` at the top); the batch's bound is one more condition.
    const given = Array.isArray(filters.$and) ? filters.$and : []
    const matching = (extra: Record<string, unknown>) => ({
      ...filters,
      $and: [...given, extra],
    })

    const started = performance.now()
    const result: BulkActionResult = {
      id: "",
      action,
      dry_run: dryRun,
      matched: 0,
      acted: 0,
      skipped: 0,
      failed: 0,
      skipped_by_reason: {},
      more: false,
      batches: 0,
      duration_ms: 0,
      outcomes: [],
    }
    const record = async (error: string | null) =>
      insertBulkRecord(this.db, {
        action,
        actor,
        dry_run: dryRun,
        filters,
        matched: result.matched,
        acted: result.acted,
        skipped: result.skipped,
        batches: result.batches,
        duration_ms: Math.round(performance.now() - started),
        error,
      })

    try {
      let after = ""
      while (result.matched < maxRuns) {
        const take = Math.min(batchSize, maxRuns - result.matched)
        const batch = (await list(matching({ id: { $gt: after } }), {
          select: [...RUN_COLUMNS],
          order: { id: "ASC" },
          take,
        })) as Run[]
        if (!batch.length) {
          break
        }
        result.batches++
        for (const candidate of batch) {
          result.matched++
          const outcome = dryRun
            ? this.preview(action, candidate)
            : await this.actOn(action, candidate, async () => {
                const [fresh] = (await list(matching({ id: candidate.id }), {
                  select: [...RUN_COLUMNS],
                  take: 1,
                })) as Run[]
                return fresh
              })
          this.count(result, outcome)
        }
        after = batch[batch.length - 1].id
        if (batch.length < take) {
          break
        }
      }
      if (result.matched >= maxRuns) {
        const [next] = await list(matching({ id: { $gt: after } }), {
          select: ["id"],
          order: { id: "ASC" },
          take: 1,
        })
        result.more = !!next
      }
    } catch (error) {
      await record(messageOf(error))
      throw error
    }
    result.duration_ms = Math.round(performance.now() - started)
    result.id = await record(null)
    return result
  }

  private count(result: BulkActionResult, outcome: BulkRunOutcome): void {
    result.outcomes.push(outcome)
    if (outcome.outcome === "skipped") {
      result.skipped++
      const reason = outcome.reason!
      result.skipped_by_reason[reason] =
        (result.skipped_by_reason[reason] ?? 0) + 1
    } else if (outcome.outcome === "failed") {
      result.failed++
    } else {
      result.acted++
    }
  }

  private preview(action: BulkActionName, run: Run): BulkRunOutcome {
    const skipped = whyNot(action, run)
    if (skipped) {
      return { ...identity(run), outcome: "skipped", reason: skipped }
    }
    return action === "retry"
      ? {
          ...identity(run),
          outcome: "would_retry",
          step_ids: retryTargets(run),
        }
      : { ...identity(run), outcome: "would_cancel" }
  }

  private async actOn(
    action: BulkActionName,
    candidate: Run,
    reread: () => Promise<Run | undefined>
  ): Promise<BulkRunOutcome> {
    const run = await reread()
    if (!run) {
      return skip(candidate, "no_longer_matches")
    }
    const skipped = whyNot(action, run)
    if (skipped) {
      // It had a step waiting when the batch was read: someone got there first.
      const answered =
        skipped === "nothing_to_retry" && retryTargets(candidate).length > 0
      return skip(run, answered ? "answered_meanwhile" : skipped)
    }
    try {
      return action === "retry"
        ? await this.retry(run, candidate)
        : await this.cancel(run)
    } catch (error) {
      if (
        error instanceof MedusaError &&
        error.type === MedusaError.Types.NOT_ALLOWED
      ) {
        return {
          ...skip(
            run,
            action === "retry" ? "answered_meanwhile" : "already_finished"
          ),
          message: error.message,
        }
      }
      this.logger.error(
        `Bulk ${action} of workflow execution ${run.workflow_id}:${run.transaction_id} failed: ${messageOf(error)}`
      )
      return { ...identity(run), outcome: "failed", message: messageOf(error) }
    }
  }

  /** Retries the steps of `run` as the batch read them (`seen`): a step invoked again since is refused. */
  private async retry(run: Run, seen: Run): Promise<BulkRunOutcome> {
    const attemptsSeen = new Map(
      waitingSteps(seen).map((step) => [
        step.definition!.action!,
        step.attempts ?? 0,
      ])
    )
    const stepIds = retryTargets(run)
    for (const stepId of stepIds) {
      await this.orchestrator.retryStepOnce(
        {
          idempotencyKey: {
            workflowId: run.workflow_id,
            transactionId: run.transaction_id,
            stepId,
            action: TransactionHandlerType.INVOKE,
          },
          options: { throwOnError: true },
        },
        attemptsSeen.get(stepId) ?? -1
      )
    }
    return { ...identity(run), outcome: "retried", step_ids: stepIds }
  }

  private async cancel(run: Run): Promise<BulkRunOutcome> {
    const cancelled = await this.orchestrator.cancel(
      run.workflow_id,
      { transactionId: run.transaction_id, throwOnError: false },
      { onlyInFlight: true }
    )
    if (!("transaction" in cancelled)) {
      return skip(run, "already_finished")
    }
    return {
      ...identity(run),
      outcome: "cancelled",
      state: cancelled.transaction.getFlow().state,
    }
  }
}

/** Why the action would leave this run alone as read, or null. */
function whyNot(action: BulkActionName, run: Run): BulkSkipReason | null {
  if (FINISHED_STATES.has(run.state)) {
    return "already_finished"
  }
  if (action === "retry" && !retryTargets(run).length) {
    return "nothing_to_retry"
  }
  return null
}

type StoredStep = StoredStepForRetry & {
  definition?: { action?: string }
  retryRescheduledAt?: number | null
  attempts?: number
}

/** The steps of a run a retry acts on: those Medusa's retryStep runs again now, whose retry is not scheduled already. */
function waitingSteps(run: Run): StoredStep[] {
  const steps = Object.values(
    ((run.execution as { steps?: object } | null)?.steps ?? {}) as Record<
      string,
      StoredStep
    >
  )
  return steps.filter(
    (step) =>
      isRetryable(step) && !step.retryRescheduledAt && step.definition?.action
  )
}

function retryTargets(run: Run): string[] {
  return waitingSteps(run).map((step) => step.definition!.action!)
}

function identity(run: Run) {
  return {
    id: run.id,
    workflow_id: run.workflow_id,
    transaction_id: run.transaction_id,
  }
}

function skip(run: Run, reason: BulkSkipReason): BulkRunOutcome {
  return { ...identity(run), outcome: "skipped", reason }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
