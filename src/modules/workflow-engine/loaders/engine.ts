import {
  DistributedTransaction,
  WorkflowScheduler,
} from "@medusajs/framework/orchestration"
import {
  IEventBusModuleService,
  InternalModuleDeclaration,
  LoaderOptions,
  Logger,
  MedusaContainer,
} from "@medusajs/framework/types"
import { asValue } from "@medusajs/framework/awilix"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import {
  InstanceLease,
  runsWork,
  WorkerMode,
} from "../instances/instance-lease"
import { describeConnection, poolMax, sessionConnection } from "../db"
import {
  heartbeatChannel,
  TRANSACTION_CHANNEL,
} from "../notifications/channels"
import { NotificationListener } from "../notifications/notification-listener"
import {
  finishId,
  finishNoticedWith,
} from "../notifications/sql/notify-finished"
import { RemoteFinishes } from "../orchestrator/remote-finishes"
import { resolveOptions } from "../options"
import { ExecutionListing } from "../queries/execution-listing"
import { BulkActions } from "../bulk/bulk-actions"
import { StorageReport } from "../queries/storage-report"
import { WorkflowOrchestrator } from "../orchestrator/workflow-orchestrator"
import { CrashRecovery } from "../recovery/crash-recovery"
import { ExecutionRetention } from "../retention/execution-retention"
import { retentionSecondsFor } from "../retention/retention-policy"
import { ClusterSchedules } from "../schedules/cluster-schedules"
import { schedulePurge } from "../retention/purge-schedule"
import { runScheduledWorkflow } from "../schedules/run-scheduled-workflow"
import { CheckpointStore } from "../storage/checkpoint-store"
import { keepHandlerNotes } from "../storage/handler-notes"
import { NewTransactions } from "../storage/new-transactions"
import { StorageAdapter } from "../storage-adapter"
import { becomeProcessEngine } from "../current-engine"
import { DEFAULT_DELIVERY, EventDelivery } from "../events/event-delivery"
import { runEventOf } from "../events/run-events"
import { scheduleStuckScan } from "../events/stuck-schedule"
import { StuckScan } from "../events/stuck-scan"
import { Supervisor } from "../supervisor"
import { DurableTimers } from "../timers/durable-timers"
import { confirmationToLoad, fireTimer } from "../timers/fire-timer"
import { timerJudge } from "../timers/timer-judge"
import { OnlineUpgradeRunner } from "../upgrade/online-upgrade-runner"
import { engineMetrics } from "../metrics/engine-metrics"
import { runResultOf } from "../metrics/run-result"
import { sumCounters } from "../queries/sql/sum-counters"
import { countRunReports } from "../queries/sql/count-run-reports"
import { IN_FLIGHT_STATE_LIST } from "../transaction-states"
import { checkMedusaVersion, installedMedusaVersion } from "../medusa-versions"

/**
 * Builds the engine once per module and wires its parts: the only place that
 * knows them all. Validates the options, installs the storage adapter behind
 * every DistributedTransaction and WorkflowScheduler of the process, and
 * registers what the module service uses. Nothing starts here: the
 * supervisor starts the background work when the application starts.
 */
export default async function engineLoader(
  { container, options }: LoaderOptions,
  moduleDeclaration?: InternalModuleDeclaration
): Promise<void> {
  const logger = (container.resolve<Logger>(ContainerRegistrationKeys.LOGGER, {
    allowUnregistered: true,
  }) ?? console) as Logger
  checkMedusaVersion(installedMedusaVersion(), logger)
  const resolved = resolveOptions(options as Record<string, unknown>, logger)
  const db = resolveKnex(container)
  const sharedContainer =
    container.resolve<MedusaContainer>("sharedContainer", {
      allowUnregistered: true,
    }) ?? container
  const workerMode = (moduleDeclaration?.worker_mode ?? "shared") as WorkerMode

  let listener: NotificationListener | undefined
  // The gauges read what the engine already counts: the counters table and the stuck_at partial index.
  const recorder = engineMetrics({
    counts: async () => ({
      inFlight: await sumCounters(db, null, [...IN_FLIGHT_STATE_LIST]),
      stuck: (await countRunReports(db)).stuck,
    }),
    listenerConnected: () => !!listener?.connected,
  })

  const lease = new InstanceLease(
    db,
    logger,
    workerMode,
    resolved.leaseDurationMs
  )
  const newTransactions = new NewTransactions()
  const orchestrator: WorkflowOrchestrator = new WorkflowOrchestrator(
    sharedContainer,
    logger,
    newTransactions,
    recorder,
    (run, work) => timers.holdingClears(run, work)
  )
  const timers: DurableTimers = new DurableTimers(
    db,
    logger,
    {
      instanceId: lease.id,
      runsWork: runsWork(workerMode),
      pollIntervalMs: resolved.pollIntervalMs,
      releaseDelayMs: resolved.pollIntervalMs,
    },
    fireTimer(() => orchestrator),
    recorder
  )
  const schedules = new ClusterSchedules(
    db,
    logger,
    {
      instanceId: lease.id,
      runsWork: runsWork(workerMode),
      pollIntervalMs: resolved.pollIntervalMs,
    },
    runScheduledWorkflow(logger, () => orchestrator)
  )
  const retention = new ExecutionRetention(db, logger, resolved, recorder)
  await schedulePurge(
    schedules,
    retention,
    logger,
    resolved.purgeIntervalSeconds
  )
  const stuckScan = new StuckScan(db, logger, resolved.stuckAfterSeconds)
  await scheduleStuckScan(schedules, stuckScan, resolved.stuckAfterSeconds)
  const events = new EventDelivery(
    db,
    logger,
    { ...DEFAULT_DELIVERY, pollIntervalMs: resolved.pollIntervalMs },
    // Resolved at each pass, as Medusa's own modules reach it: the event bus may load after this module, or not at all.
    () =>
      container.resolve<IEventBusModuleService | undefined>(Modules.EVENT_BUS, {
        allowUnregistered: true,
      })
  )

  const checkpoints = new CheckpointStore(
    db,
    logger,
    {
      instanceId: lease.id,
      lease,
      preparedStatements: resolved.preparedStatements,
      retentionSeconds: (state, workflowRetentionSeconds) =>
        retentionSecondsFor(state, workflowRetentionSeconds, resolved),
      judgeTimer: timerJudge(logger),
      loadedWith: (run) => confirmationToLoad(run, lease.id),
      runEvent: runEventOf,
      inHand: (work) => void storage.callsInHand.track(work),
      onRunEnded: (flow) => {
        const result = runResultOf(flow)
        if (result) {
          recorder.runEnded({
            workflowId: flow.modelId,
            result,
            startedAtMs: flow.startedAt,
          })
        }
      },
      removedWithWrite: (run, fence) => timers.removedWithWrite(run, fence),
      runEnd: (run) => [
        timers.removedWithEnd(run.workflowId, run.transactionId, run.stepIds),
        finishNoticedWith({
          id: finishId(),
          workflow_id: run.workflowId,
          transaction_id: run.transactionId,
          state: run.state,
          instance_id: lease.id,
        }),
      ],
    },
    newTransactions
  )
  const storage = new StorageAdapter(logger, {
    instanceId: lease.id,
    checkpoints,
    timers,
    schedules,
    purge: () => retention.purgeExpired({}, "manual"),
  })
  DistributedTransaction.setStorage(storage)
  keepHandlerNotes((run, stepId, attempt) =>
    storage.noteAwaiting(run, stepId, attempt)
  )
  WorkflowScheduler.setStorage(storage)

  const session = sessionConnection(db, resolved.directDatabaseUrl)
  listener = new NotificationListener(session, db, logger, {
    heartbeatChannel: heartbeatChannel(lease.id),
    pollIntervalMs: resolved.pollIntervalMs,
    direct: !!resolved.directDatabaseUrl,
  })
  const remoteFinishes = new RemoteFinishes(
    db,
    logger,
    lease.id,
    orchestrator.subscribers
  )
  listener.on(TRANSACTION_CHANNEL, (payload) => remoteFinishes.handle(payload))
  listener.onCatchUp(() => void remoteFinishes.catchUp(listener.heardThrough))
  const recovery = new CrashRecovery(
    db,
    logger,
    lease.id,
    () => orchestrator,
    recorder
  )
  const upgrade = new OnlineUpgradeRunner(session, db, logger)
  const supervisor = new Supervisor(
    logger,
    lease,
    listener,
    timers,
    schedules,
    recovery,
    upgrade,
    storage.callsInHand,
    {
      poolMax: poolMax(db),
      session: describeConnection(session),
    },
    events
  )
  await becomeProcessEngine(supervisor, (handler) => onPoolClosing(db, handler))

  container.register({
    workflowStorage: asValue(storage),
    workflowOrchestrator: asValue(orchestrator),
    workflowRetention: asValue(retention),
    workflowListing: asValue(new ExecutionListing(db)),
    workflowSupervisor: asValue(supervisor),
    workflowRecovery: asValue(recovery),
    workflowStorageReport: asValue(new StorageReport(db, resolved)),
    workflowEvents: asValue(events),
    workflowStuckScan: asValue(stuckScan),
    workflowBulkActions: asValue(new BulkActions(db, orchestrator, logger)),
  })
}

// The module shares the application's pool; its own MikroORM manager wraps the same one.
function resolveKnex(container: MedusaContainer): Knex {
  const shared = container.resolve<Knex>(
    ContainerRegistrationKeys.PG_CONNECTION,
    { allowUnregistered: true }
  )
  return shared ?? container.resolve<any>("manager").getKnex()
}

// knex's destroy() ends its pool (tarn's) for good: Medusa's module test runner destroys its connection after the last test.
function onPoolClosing(db: Knex, handler: () => void): void {
  ;(db as any).client.pool?.on("poolDestroyRequest", handler)
}
