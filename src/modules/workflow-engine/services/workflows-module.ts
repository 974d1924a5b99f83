import {
  Context,
  FilterableWorkflowExecutionProps,
  FindConfig,
  IWorkflowEngineService,
  ModuleJoinerConfig,
  WorkflowExecutionDTO,
} from "@medusajs/framework/types"
import {
  InjectManager,
  InjectSharedContext,
  isDefined,
  MedusaContext,
  MedusaError,
  MedusaService,
} from "@medusajs/framework/utils"
import { checkFields, describe, invalidField } from "../invalid-field"
import { joinerConfig } from "../joiner-config"
import {
  WorkflowExecution,
  WorkflowExecutionBulkAction,
  WorkflowExecutionPurge,
} from "../models"
import { BulkActionResult, BulkActions } from "../bulk/bulk-actions"
import { BulkActionInput } from "../bulk/bulk-input"
import { BulkActionRecord } from "../bulk/sql/insert-bulk-record"
import { KeptExecutionRow } from "../retention/sql/keep-execution"
import {
  checkCancelOptions,
  checkRunOptions,
  checkStepCall,
  checkSubscription,
} from "../orchestrator/call-input"
import {
  CancelOptions,
  RunOptions,
  StepResponseOptions,
  WorkflowOrchestrator,
} from "../orchestrator/workflow-orchestrator"
import { EXECUTION_FILTERS } from "../queries/execution-fields"
import { prepareFilters } from "../queries/execution-filters"
import { ExecutionSearch, searchText } from "../queries/execution-search"
import { checkListConfig } from "../queries/list-config"
import { directLookupOf } from "../queries/direct-lookup"
import { ExecutionListing } from "../queries/execution-listing"
import {
  ExecutionRetentionReport,
  ExecutionStorageReport,
  StorageReport,
} from "../queries/storage-report"
import { isSelective, totalOfPage } from "../queries/page-total"
import { preparePurgeList } from "../queries/purge-filters"
import {
  EraseResult,
  ExecutionRetention,
  PurgeResult,
} from "../retention/execution-retention"
import {
  checkPurgeRequest,
  EraseExecutionsInput,
  PurgeExpiredInput,
  RequestedPurgeTrigger,
} from "../retention/purge-input"
import { StorageAdapter } from "../storage-adapter"
import { Supervisor } from "../supervisor"
import { EventDelivery } from "../events/event-delivery"
import { StuckScan } from "../events/stuck-scan"
import { PurgeRecord } from "../retention/sql/insert-purge-record"

type InjectedDependencies = {
  workflowOrchestrator: WorkflowOrchestrator
  workflowStorage: StorageAdapter
  workflowRetention: ExecutionRetention
  workflowListing: ExecutionListing
  workflowSupervisor: Supervisor
  workflowStorageReport: StorageReport
  workflowEvents: EventDelivery
  workflowStuckScan: StuckScan
  workflowBulkActions: BulkActions
}

/** A bulk action audit entry, as `listWorkflowExecutionBulkActions` returns it. */
export type WorkflowExecutionBulkActionDTO = BulkActionRecord & {
  id: string
  created_at: Date
}

/** A purge audit entry, as `listWorkflowExecutionPurges` returns it. */
export type WorkflowExecutionPurgeDTO = PurgeRecord & {
  id: string
  created_at: Date
}

/** The storage card: what is stored, what it costs, what goes next, and the latest purge passes. */
export type ExecutionStorageDTO = ExecutionStorageReport & {
  last_purges: WorkflowExecutionPurgeDTO[]
}

/** Audit entries the storage report includes, newest first. */
const STORAGE_REPORT_PURGES = 5

type ExecutionLookup = string | { workflow_id: string; transaction_id: string }

/**
 * The Workflow Engine module: runs workflows through the orchestrator and
 * reads the executions it stores in Postgres.
 */
export class WorkflowsModuleService
  extends MedusaService<{
    WorkflowExecution: { dto: WorkflowExecutionDTO }
    WorkflowExecutionPurge: { dto: WorkflowExecutionPurgeDTO }
    WorkflowExecutionBulkAction: { dto: WorkflowExecutionBulkActionDTO }
  }>({ WorkflowExecution, WorkflowExecutionPurge, WorkflowExecutionBulkAction })
  implements IWorkflowEngineService
{
  protected readonly orchestrator_: WorkflowOrchestrator
  protected readonly storage_: StorageAdapter
  protected readonly retention_: ExecutionRetention
  protected readonly listing_: ExecutionListing
  protected readonly supervisor_: Supervisor
  protected readonly storageReport_: StorageReport
  protected readonly events_: EventDelivery
  protected readonly stuckScan_: StuckScan
  protected readonly bulkActions_: BulkActions

  constructor(dependencies: InjectedDependencies, ...rest: unknown[]) {
    // MedusaService reads the model services it generates from the same cradle.
    super(dependencies, ...rest)
    this.orchestrator_ = dependencies.workflowOrchestrator
    this.storage_ = dependencies.workflowStorage
    this.retention_ = dependencies.workflowRetention
    this.listing_ = dependencies.workflowListing
    this.supervisor_ = dependencies.workflowSupervisor
    this.storageReport_ = dependencies.workflowStorageReport
    this.events_ = dependencies.workflowEvents
    this.stuckScan_ = dependencies.workflowStuckScan
    this.bulkActions_ = dependencies.workflowBulkActions
  }

  __joinerConfig(): ModuleJoinerConfig {
    return joinerConfig
  }

  __hooks = {
    onApplicationStart: async () => {
      // On a schema it cannot work on, nothing starts in the background: the check has said why.
      if (await this.storage_.checkSchema()) {
        await this.supervisor_.start()
      }
    },
    // Before the pool closes: in-hand timers and ticks finish, the lease ends.
    onApplicationPrepareShutdown: async () => this.supervisor_.stop(),
    onApplicationShutdown: async () => this.supervisor_.stop(),
  }

  /**
   * Hands every workflow event due now to Medusa's event bus (workers do it
   * in the background, see docs/events.md); returns how many it delivered.
   */
  async deliverWorkflowEvents(): Promise<number> {
    return await this.events_.deliverNow()
  }

  /**
   * Reports the runs stuck now (the option `stuckAfterSeconds`; a scheduled
   * scan does it once a minute across the cluster); returns how many were
   * newly reported.
   */
  async reportStuckExecutions(): Promise<number> {
    return await this.stuckScan_.scanNow()
  }

  // No @InjectManager here: a direct lookup uses no entity manager, and forking one cost a sixth of the
  // documented lookup; the ORM path goes through the generated method, which injects its own.
  // @ts-expect-error the generated method's filter type has no `q`
  async listWorkflowExecutions(
    filters: FilterableWorkflowExecutionProps = {},
    config?: FindConfig<WorkflowExecutionDTO>,
    @MedusaContext() sharedContext: Context = {}
  ): Promise<WorkflowExecutionDTO[]> {
    const checked = checkListConfig(EXECUTION_FILTERS, config)
    const { prepared } = await this.prepareList_(
      filters,
      checked,
      sharedContext
    )
    return await this.listRows_(prepared, checked, sharedContext)
  }

  /** One statement straight through the pool where the lookup allows it (see direct-lookup), else the ORM. */
  protected async listRows_(
    prepared: Record<string, unknown>,
    config: FindConfig<WorkflowExecutionDTO>,
    sharedContext: Context
  ): Promise<WorkflowExecutionDTO[]> {
    const direct = directLookupOf(prepared, config, sharedContext)
    if (direct) {
      return (await this.listing_.list(
        direct
      )) as unknown as WorkflowExecutionDTO[]
    }
    return await super.listWorkflowExecutions(prepared, config, sharedContext)
  }

  @InjectManager()
  // @ts-expect-error the generated method's filter type has no `q`
  async listAndCountWorkflowExecutions(
    filters: FilterableWorkflowExecutionProps = {},
    config?: FindConfig<WorkflowExecutionDTO>,
    @MedusaContext() sharedContext: Context = {}
  ): Promise<[WorkflowExecutionDTO[], number]> {
    const checked = checkListConfig(EXECUTION_FILTERS, config)
    const { prepared, search } = await this.prepareList_(
      filters,
      checked,
      sharedContext
    )
    // Inside a caller's transaction, its own uncommitted rows count too: only the query sees them.
    const total = sharedContext.transactionManager
      ? null
      : await this.listing_.totalOf(filters, checked, search)
    if (!total) {
      return await this.listAndCountRows_(
        filters,
        prepared,
        checked,
        sharedContext
      )
    }
    try {
      const [executions, count] = await Promise.all([
        this.listRows_(prepared, checked, sharedContext),
        total(),
      ])
      return [executions, count]
    } catch (error) {
      if (!this.listing_.lostCounters(error)) {
        throw error
      }
      return await super.listAndCountWorkflowExecutions(
        prepared,
        checked,
        sharedContext
      )
    }
  }

  /*
   * A lookup by id, transaction or run usually fits in one page; a page that
   * is not full already tells the total, so the count query is only sent when
   * the page is full.
   */
  protected async listAndCountRows_(
    filters: FilterableWorkflowExecutionProps,
    prepared: Record<string, unknown>,
    config: FindConfig<WorkflowExecutionDTO>,
    sharedContext: Context
  ): Promise<[WorkflowExecutionDTO[], number]> {
    if (isSelective(filters)) {
      const executions = await this.listRows_(prepared, config, sharedContext)
      const total = totalOfPage(executions.length, config)
      if (total !== null) {
        return [executions, total]
      }
    }
    return await super.listAndCountWorkflowExecutions(
      prepared,
      config,
      sharedContext
    )
  }

  // Validates first, so a bad filter never costs a query; then resolves `q`.
  protected async prepareList_(
    filters: FilterableWorkflowExecutionProps,
    config: FindConfig<WorkflowExecutionDTO>,
    sharedContext: Context
  ): Promise<{ prepared: Record<string, unknown>; search?: ExecutionSearch }> {
    const prepared = prepareFilters(filters)
    const q = searchText(filters)
    if (q === undefined || sharedContext.transactionManager) {
      return { prepared }
    }
    const search = await this.listing_.search(q, config)
    return search
      ? { prepared: prepareFilters(filters, search), search }
      : { prepared }
  }

  /** By `wf_exec_…` id, or the newest run of `{ workflow_id, transaction_id }` (a list call: see there for the manager). */
  // @ts-expect-error the generated method takes an id only
  async retrieveWorkflowExecution(
    idOrObject: ExecutionLookup,
    config: FindConfig<WorkflowExecutionDTO> = {},
    @MedusaContext() sharedContext: Context = {}
  ): Promise<WorkflowExecutionDTO> {
    const filters = lookupFilters(idOrObject)
    const [execution] = await this.listWorkflowExecutions(
      filters,
      { ...config, take: 1, order: { created_at: "DESC" } },
      sharedContext
    )
    if (!execution) {
      throw new MedusaError(
        MedusaError.Types.NOT_FOUND,
        `WorkflowExecution with ${Object.entries(filters)
          .map(([key, value]) => `${key}: ${value}`)
          .join(", ")} was not found`
      )
    }
    return execution
  }

  /**
   * Deletes finished executions past their retention, in short batches, by the
   * database clock; with `dryRun`, only counts them. Every call is recorded in
   * the purge audit trail (`listWorkflowExecutionPurges`).
   */
  async purgeExpiredExecutions(
    input: PurgeExpiredInput & { trigger?: RequestedPurgeTrigger } = {}
  ): Promise<PurgeResult> {
    const { pass, trigger } = checkPurgeRequest(input)
    return await this.retention_.purgeExpired(pass, trigger)
  }

  /**
   * Finishes now what `medusa db:migrate` left to the module (counting the
   * rows already there, back-fills, index builds CONCURRENTLY), which an
   * instance otherwise does in the background after start; waits for a run
   * in hand on any instance first.
   */
  async finishUpgrade(): Promise<{
    finished: string[]
    rows: number
    batches: number
    ms: number
  }> {
    const { finished, rows, batches, ms } =
      await this.supervisor_.upgrade.runNow()
    return { finished, rows, batches, ms }
  }

  /**
   * What `workflow_execution` holds: executions per workflow and state
   * (exact), their estimated bytes, the table's size, what expired, what is
   * kept forever, the retention options and the latest purge passes. Reads
   * the counters, the catalog and a bounded sample, never the whole table.
   */
  async retrieveExecutionStorage(): Promise<ExecutionStorageDTO> {
    const [report, last_purges] = await Promise.all([
      this.storageReport_.report(),
      this.listWorkflowExecutionPurges(
        {},
        { order: { created_at: "DESC" }, take: STORAGE_REPORT_PURGES }
      ),
    ])
    return { ...report, last_purges }
  }

  /** The purge audit trail; filters and config are checked like those of the execution lists. */
  // @ts-expect-error the generated method's filter type is the model's, ours takes any input to check
  async listWorkflowExecutionPurges(
    filters: Record<string, unknown> = {},
    config?: FindConfig<WorkflowExecutionPurgeDTO>,
    @MedusaContext() sharedContext: Context = {}
  ): Promise<WorkflowExecutionPurgeDTO[]> {
    const checked = preparePurgeList(filters, config)
    return await super.listWorkflowExecutionPurges(
      checked.filters,
      checked.config,
      sharedContext
    )
  }

  // @ts-expect-error as listWorkflowExecutionPurges
  async listAndCountWorkflowExecutionPurges(
    filters: Record<string, unknown> = {},
    config?: FindConfig<WorkflowExecutionPurgeDTO>,
    @MedusaContext() sharedContext: Context = {}
  ): Promise<[WorkflowExecutionPurgeDTO[], number]> {
    const checked = preparePurgeList(filters, config)
    return await super.listAndCountWorkflowExecutionPurges(
      checked.filters,
      checked.config,
      sharedContext
    )
  }

  /** When the execution of this `wf_exec_…` id will be purged, and which retention decided it. */
  async retrieveExecutionRetention(
    id: string
  ): Promise<ExecutionRetentionReport> {
    checkExecutionId(id)
    return await this.storageReport_.retentionOf(id)
  }

  /**
   * Deletes every stored execution of the given transactions now, whatever
   * its retention (a privacy request), and records it in the audit trail.
   */
  async eraseWorkflowExecutions(
    input: EraseExecutionsInput
  ): Promise<EraseResult> {
    return await this.retention_.erase(input)
  }

  /**
   * Retries (Medusa's retryStep on each step that waits for it) or cancels
   * the stored runs that match the list's filters, in batches; with
   * `dryRun`, says what it would do. Each run is checked again as it is acted
   * on: one that no longer matches, finished, or was answered meanwhile is
   * skipped with the reason, never retried twice. Recorded in the bulk action
   * audit trail (`listWorkflowExecutionBulkActions`).
   */
  async bulkActOnWorkflowExecutions(
    input: BulkActionInput
  ): Promise<BulkActionResult> {
    return await this.bulkActions_.run(input, (filters, config) =>
      this.listWorkflowExecutions(filters, config)
    )
  }

  /**
   * Keeps a finished execution from every purge until `unkeepWorkflowExecution`,
   * recording who (`keptBy`) and why. A run in flight is refused (NOT_ALLOWED).
   */
  async keepWorkflowExecution(
    id: string,
    { reason, keptBy = null }: { reason: string; keptBy?: string | null }
  ): Promise<KeptExecutionRow> {
    checkExecutionId(id)
    if (typeof reason !== "string" || !reason.trim()) {
      throw invalidField(
        "Workflow execution keep",
        "reason",
        `must be a non-empty string, got ${describe(reason)}`
      )
    }
    return await this.retention_.keep(id, keptBy, reason.trim())
  }

  /** Stops keeping an execution: its own expiry applies again (one already past it goes with the next purge pass). */
  async unkeepWorkflowExecution(
    id: string
  ): Promise<{ id: string; expires_at: Date | null }> {
    checkExecutionId(id)
    return await this.retention_.unkeep(id)
  }

  @InjectSharedContext()
  async run(
    workflowIdOrWorkflow: any,
    options: RunOptions & { runId?: string } = {},
    @MedusaContext() context: Context = {}
  ) {
    checkRunOptions(options)
    return await this.orchestrator_.run(workflowIdOrWorkflow, {
      ...options,
      context: runContext(options, context),
    })
  }

  @InjectSharedContext()
  async getRunningTransaction(
    workflowId: string,
    transactionId: string,
    @MedusaContext() context: Context = {}
  ) {
    return await this.orchestrator_.getRunningTransaction(
      workflowId,
      transactionId,
      context
    )
  }

  @InjectSharedContext()
  async retryStep(
    call: Omit<StepResponseOptions, "stepResponse">,
    @MedusaContext() context: Context = {}
  ) {
    checkStepCall("Step retry", call, false)
    const { idempotencyKey, options } = call
    return await this.orchestrator_.retryStep({
      idempotencyKey,
      options: withCallerContext(options, context),
    })
  }

  @InjectSharedContext()
  async setStepSuccess(
    answer: StepResponseOptions,
    @MedusaContext() context: Context = {}
  ) {
    checkStepCall("Step answer", answer, true)
    const { idempotencyKey, stepResponse, options } = answer
    return await this.orchestrator_.setStepSuccess({
      idempotencyKey,
      stepResponse,
      options: withCallerContext(options, context),
    })
  }

  @InjectSharedContext()
  async setStepFailure(
    answer: StepResponseOptions,
    @MedusaContext() context: Context = {}
  ) {
    checkStepCall("Step answer", answer, true)
    const { idempotencyKey, stepResponse, options } = answer
    return await this.orchestrator_.setStepFailure({
      idempotencyKey,
      stepResponse,
      options: withCallerContext(options, context),
    })
  }

  async subscribe(args: {
    workflowId: string
    transactionId?: string
    subscriber: Function
    subscriberId?: string
  }) {
    checkSubscription(args, true)
    this.orchestrator_.subscribe(args)
  }

  async unsubscribe(args: {
    workflowId: string
    transactionId?: string
    subscriberOrId: string | Function
  }) {
    checkSubscription(args, false)
    this.orchestrator_.unsubscribe(args)
  }

  async cancel(workflowIdOrWorkflow: any, options: CancelOptions) {
    checkCancelOptions(options)
    return await this.orchestrator_.cancel(workflowIdOrWorkflow, options)
  }
}

function checkExecutionId(id: unknown): void {
  if (typeof id !== "string" || !id) {
    throw invalidField(
      "Workflow execution",
      "id",
      `must be a wf_exec_… id, got ${describe(id)}`
    )
  }
}

function lookupFilters(idOrObject: ExecutionLookup): Record<string, string> {
  if (typeof idOrObject === "string" && idOrObject) {
    return { id: idOrObject }
  }
  const lookup = checkFields(
    "Workflow execution lookup",
    idOrObject,
    ["workflow_id", "transaction_id"],
    {
      name: "idOrObject",
    }
  )
  for (const field of ["workflow_id", "transaction_id"]) {
    if (typeof lookup[field] !== "string") {
      throw invalidField(
        "Workflow execution lookup",
        field,
        `must be a string (retrieveWorkflowExecution takes a wf_exec_… id or { workflow_id, transaction_id }), got ${describe(lookup[field])}`
      )
    }
  }
  return lookup as Record<string, string>
}

// The caller's transaction and entity manager never travel into a workflow run.
function callerContext(context: Context): Context {
  const { manager, transactionManager, ...rest } = context
  return rest
}

function withCallerContext<T extends { context?: Context }>(
  options: T | undefined,
  context: Context
): T {
  return {
    ...(options ?? ({} as T)),
    context: options?.context ?? callerContext(context),
  }
}

/**
 * The context a run starts with: the caller's, then the run's own. Events of
 * the run are held for the caller's release when the run joins the caller's
 * event group, unless the run says otherwise.
 */
function runContext(
  options: RunOptions & { runId?: string },
  context: Context
): Context {
  const {
    preventReleaseEvents: _,
    transactionId: __,
    parentStepIdempotencyKey: ___,
    ...inherited
  } = callerContext(context) as Context & Record<string, unknown>
  const own = (options.context ?? {}) as Context & Record<string, unknown>

  const preventReleaseEvents = isDefined(own.preventReleaseEvents)
    ? !!own.preventReleaseEvents
    : isDefined(context.eventGroupId) &&
      context.eventGroupId === own.eventGroupId
  const eventGroupId =
    own.eventGroupId ??
    (preventReleaseEvents ? context.eventGroupId : undefined)

  return {
    ...inherited,
    ...own,
    eventGroupId,
    runId: options.runId,
    preventReleaseEvents,
  } as Context
}
