import { Logger } from "@medusajs/framework/types"
import { TransactionHandlerType } from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { MedusaWorkflow } from "@medusajs/framework/workflows-sdk"
import { WorkflowRunner } from "../workflow-runner"
import { EngineRecorder, NO_RECORDER } from "../metrics/engine-recorder"
import { inSpan } from "../metrics/engine-spans"
import { RecoveryPlan, planRecovery } from "./recovery-plan"
import { adoptRun, AdoptedRun, lockOrphanedRun } from "./sql/adopt-run"
import { findOrphanedRuns, OrphanedRun } from "./sql/find-orphaned-runs"
import { reapInstances } from "./sql/reap-instances"
import { upsertTimer } from "../timers/sql/upsert-timer"
import { stepTimerKey, timerMetadata } from "../timers/timer-keys"
import { TimerSpec } from "../timers/timer-spec"

const BATCH = 50

/**
 * Takes over the runs in flight of instances that died (see recovery-plan
 * for what becomes of each). Woken when a renewal of this instance's lease
 * sees a dead instance; each run is adopted under its row lock, so that of
 * several instances recovering at once exactly one handles it.
 */
export class CrashRecovery {
  private passing?: Promise<void>
  private passAgain = false
  private started = false
  private stopping = false
  private readonly unknownWorkflows = new Set<string>()

  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    private readonly instanceId: string,
    private readonly runner: () => WorkflowRunner,
    private readonly recorder: EngineRecorder = NO_RECORDER
  ) {}

  start(): void {
    this.started = true
    this.stopping = false
  }

  wake(): void {
    if (!this.started) {
      return
    }
    if (this.passing) {
      this.passAgain = true
      return
    }
    this.passing = this.passes().finally(() => (this.passing = undefined))
  }

  /** Waits for the recovery in hand; starts none after. */
  async stop(): Promise<void> {
    this.started = false
    this.stopping = true
    await this.passing
  }

  /** Recovers every orphaned run there is now; returns how many were taken over. */
  async recoverNow(): Promise<number> {
    let recovered = 0
    for (;;) {
      const runs = await findOrphanedRuns(this.db, BATCH)
      let progress = 0
      for (const run of runs) {
        if (this.stopping) {
          return recovered
        }
        progress += (await this.recover(run)) ? 1 : 0
      }
      recovered += progress
      if (runs.length < BATCH || progress === 0) {
        break
      }
    }
    await reapInstances(this.db)
    return recovered
  }

  private async passes(): Promise<void> {
    do {
      this.passAgain = false
      await this.recoverNow().catch((error) =>
        this.logger.warn(
          `Workflow engine: a pass recovering the runs of dead instances stopped, the next one tries again: ${error}`
        )
      )
    } while (this.passAgain && this.started)
  }

  private async recover(run: OrphanedRun): Promise<boolean> {
    if (!MedusaWorkflow.getWorkflow(run.workflow_id)) {
      // Another instance (another version of the app) may know it.
      if (!this.unknownWorkflows.has(run.workflow_id)) {
        this.unknownWorkflows.add(run.workflow_id)
        this.logger.warn(
          `Workflow engine: runs of workflow "${run.workflow_id}" were left by a dead instance, and this instance ` +
            `does not have that workflow; an instance that has it recovers them.`
        )
      }
      return false
    }
    const adopted = await this.db.transaction(async (trx) => {
      const stored = await lockOrphanedRun(trx, run)
      if (!stored) {
        return
      }
      const plan = planRecovery(
        stored.execution,
        stored.timers,
        stored.awaited_steps
      )
      await adoptRun(
        trx,
        run,
        plan.action === "disown" ? null : this.instanceId,
        plan.action === "fail" ? plan.flow : undefined
      )
      if (plan.action === "disown") {
        await restoreTimeouts(trx, run, stored, plan.timeouts)
      }
      return { plan, stored }
    })
    if (!adopted) {
      return false
    }
    try {
      await inSpan(
        "workflow_engine.recovery.takeover",
        {
          workflow_id: run.workflow_id,
          "workflow_engine.recovery.action": adopted.plan.action,
        },
        () => this.carryOut(run, adopted.plan, adopted.stored),
        { root: true }
      )
    } catch (error) {
      this.logger.warn(
        `Workflow engine: could not take over ${run.workflow_id} ${run.transaction_id} from instance ` +
          `${run.owner_instance_id} (${describe(adopted.plan)}): ${error}`
      )
      // Handed back to the dead owner, so that the next pass tries again.
      await adoptRun(this.db, run, run.owner_instance_id).catch((handBack) =>
        this.logger.warn(
          `Workflow engine: could not hand ${run.workflow_id} ${run.transaction_id} back for another recovery pass: ${handBack}`
        )
      )
      throw error
    }
    this.recorder.takeover(run.workflow_id, adopted.plan.action)
    this.logger.info(
      `Workflow engine: took over ${run.workflow_id} ${run.transaction_id} from instance ` +
        `${run.owner_instance_id}, whose lease ended (stopped or died): ${describe(adopted.plan)}`
    )
    return true
  }

  private async carryOut(
    run: OrphanedRun,
    plan: RecoveryPlan,
    stored: AdoptedRun
  ): Promise<void> {
    const options = { throwOnError: false, logOnError: true }
    const stepKey = (stepName: string) => ({
      workflowId: run.workflow_id,
      transactionId: run.transaction_id,
      stepId: stepName,
      action: TransactionHandlerType.INVOKE,
    })
    switch (plan.action) {
      case "disown":
        return
      case "resume":
        await this.runner().run(run.workflow_id, {
          transactionId: run.transaction_id,
          ...options,
        })
        return
      case "retry":
        await this.runner().retryStep({
          idempotencyKey: stepKey(plan.stepName),
          options,
        })
        return
      case "fail":
        await this.runner().setStepFailure({
          idempotencyKey: stepKey(plan.stepName),
          stepResponse: instanceDied(run, plan, stored),
          options: { ...options, logOnError: false },
        })
    }
  }
}

/** The error a failed run keeps in context.errors: which instance died, where, and at which step. */
function instanceDied(
  run: OrphanedRun,
  plan: RecoveryPlan & { action: "fail" },
  stored: AdoptedRun
): Error {
  const where = stored.hostname
    ? ` (${stored.hostname}, pid ${stored.pid})`
    : ""
  const when =
    plan.seen === "running"
      ? `while step "${plan.stepName}" was running`
      : `after the run's last stored checkpoint, which shows step "${plan.stepName}" as the next to run`
  const error = new Error(
    `Workflow engine instance ${run.owner_instance_id}${where} died ${when}; what the run did since that ` +
      `checkpoint is unknown, so the step is failed.`
  )
  error.name = "InstanceDiedError"
  return error
}

/** Sets again the step timeouts whose timers the dead instance took (see recovery-plan). */
async function restoreTimeouts(
  trx: Knex.Transaction,
  run: OrphanedRun,
  stored: AdoptedRun,
  timeouts: (RecoveryPlan & { action: "disown" })["timeouts"]
): Promise<void> {
  for (const timeout of timeouts) {
    const timer: TimerSpec = {
      key: stepTimerKey(
        "step_timeout",
        run.workflow_id,
        run.transaction_id,
        timeout.stepId
      ),
      kind: "step_timeout",
      workflow_id: run.workflow_id,
      transaction_id: run.transaction_id,
      step_id: timeout.stepId,
      attempt: timeout.attempt,
      metadata: timerMetadata(stored.execution.metadata),
    }
    await upsertTimer(trx, timer, timeout.inMs, null)
  }
}

function describe(plan: RecoveryPlan): string {
  switch (plan.action) {
    case "disown":
      return (
        "it waits for an answer or a timer, which any instance handles" +
        (plan.timeouts.length
          ? ` (${plan.timeouts.length} step timeout set again)`
          : "")
      )
    case "resume":
      return "continued from its last checkpoint"
    case "retry":
      return `background step "${plan.stepName}" runs again`
    case "fail":
      return `step "${plan.stepName}" failed (its instance died ${plan.seen === "running" ? "while it ran" : "before or while it ran"})`
  }
}
