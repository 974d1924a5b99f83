import { SchedulerOptions } from "@medusajs/framework/orchestration"
import { Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { InFlight } from "../in-flight"
import { nextRunAt } from "./next-run-at"
import { claimTick } from "./sql/claim-tick"
import { deleteSchedule } from "./sql/delete-schedule"
import { finishTick } from "./sql/finish-tick"
import { loadNextRuns } from "./sql/load-next-runs"
import { registerSchedule } from "./sql/register-schedule"
import { inSpan } from "../metrics/engine-spans"

/** Runs one tick; "gone" removes the schedule (its workflow does not exist any more). */
export type TickHandler = (
  jobId: string,
  scheduledFor: Date
) => Promise<"ok" | "gone">

type Job = {
  options: SchedulerOptions
  handler: TickHandler
  timer?: NodeJS.Timeout
  dueAt?: Date
}

export type ClusterSchedulesConfig = {
  instanceId: string
  /** false on a `server` instance (see runsWork): it runs no ticks */
  runsWork: boolean
  /** how long to wait before claiming again after the database failed a claim */
  pollIntervalMs: number
}

// A local timer may fire a little before the database clock says the tick is due.
const EARLY_FIRE_MARGIN_MS = 5
// When another instance holds the tick uncommitted, look again shortly.
const CONTENDED_RETRY_MS = 50

/**
 * Cron and interval schedules that tick once per cluster: every instance that
 * has a job arms a timer for its next tick, and the one whose claim moves the
 * schedule's `next_run_at` runs the tick (see claim-tick). Instances that did
 * not win re-arm for the next tick the winner set; a schedule registered or
 * changed elsewhere is announced by NOTIFY, and a reconnect re-reads them all.
 */
export class ClusterSchedules {
  private readonly jobs = new Map<string, Job>()
  private readonly running = new InFlight()
  // Jobs (concurrency "forbid") whose tick this instance is running now.
  private readonly ticking = new Set<string>()
  private started = false

  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    private readonly config: ClusterSchedulesConfig,
    private readonly defaultHandler: TickHandler
  ) {}

  async schedule(
    jobId: string,
    options: SchedulerOptions,
    handler: TickHandler = this.defaultHandler
  ): Promise<void> {
    // Validates the expression before anything is replaced.
    const first = nextRunAt(options, new Date())
    this.disarm(jobId)
    const job: Job = { options, handler }
    this.jobs.set(jobId, job)
    if (this.started) {
      await this.register(jobId, job, first)
    }
  }

  async remove(jobId: string): Promise<void> {
    this.disarm(jobId)
    this.jobs.delete(jobId)
    await deleteSchedule(this.db, jobId)
  }

  async removeAll(): Promise<void> {
    for (const jobId of [...this.jobs.keys()]) {
      await this.remove(jobId)
    }
  }

  async start(): Promise<void> {
    if (!this.config.runsWork || this.started) {
      return
    }
    this.started = true
    try {
      for (const [jobId, job] of this.jobs) {
        await this.register(jobId, job, nextRunAt(job.options, new Date()))
      }
    } catch (error) {
      // Not started: a start tried again (the database came back) registers them all.
      this.started = false
      throw error
    }
  }

  /** Re-reads every schedule's next tick: one changed elsewhere, or the connection came back. */
  async refresh(): Promise<void> {
    if (!this.started || !this.jobs.size) {
      return
    }
    const rows = await loadNextRuns(this.db, [...this.jobs.keys()])
    const byId = new Map(rows.map((row) => [row.job_id, row]))
    for (const [jobId, job] of this.jobs) {
      const row = byId.get(jobId)
      if (!row) {
        // Removed elsewhere, or never registered (the database was away): register again.
        await this.register(jobId, job, nextRunAt(job.options, new Date()))
      } else if (!row.exhausted) {
        this.arm(jobId, job, row.next_run_at)
      } else {
        this.disarm(jobId)
      }
    }
  }

  async stop(): Promise<void> {
    this.started = false
    for (const jobId of this.jobs.keys()) {
      this.disarm(jobId)
    }
    await this.running.settled()
  }

  private async register(
    jobId: string,
    job: Job,
    firstRunAt: Date
  ): Promise<void> {
    const { next_run_at } = await registerSchedule(
      this.db,
      jobId,
      job.options,
      firstRunAt
    )
    this.arm(jobId, job, next_run_at)
  }

  private arm(jobId: string, job: Job, dueAt: Date): void {
    if (!this.started || this.jobs.get(jobId) !== job) {
      return
    }
    this.disarm(jobId)
    job.dueAt = dueAt
    const delay =
      Math.max(0, dueAt.getTime() - Date.now()) + EARLY_FIRE_MARGIN_MS
    job.timer = setTimeout(() => {
      job.timer = undefined
      void this.running.track(
        this.tick(jobId, job).catch((error) =>
          this.logger.error(
            `Scheduled workflow ${jobId}: its tick failed: ${error}`
          )
        )
      )
    }, delay)
    job.timer.unref()
  }

  private disarm(jobId: string): void {
    const job = this.jobs.get(jobId)
    clearTimeout(job?.timer)
    if (job) {
      job.timer = undefined
    }
  }

  private async tick(jobId: string, job: Job): Promise<void> {
    const dueAt = job.dueAt ?? new Date()
    const allowConcurrent = job.options.concurrency === "allow"
    const next = nextRunAt(
      job.options,
      new Date(Math.max(Date.now(), dueAt.getTime()))
    )
    let claim
    try {
      claim = await claimTick(this.db, {
        jobId,
        instanceId: this.config.instanceId,
        nextRunAt: next,
        allowConcurrent,
        limit: job.options.numberOfExecutions ?? null,
        runningHere: this.ticking.has(jobId),
      })
    } catch (error) {
      this.logger.warn(
        `Scheduled workflow ${jobId}: could not claim its tick, trying again: ${error}`
      )
      return this.arm(
        jobId,
        job,
        new Date(Date.now() + this.config.pollIntervalMs)
      )
    }

    if (!claim.scheduled_for) {
      // Another instance moved it, or it is used up, or it is gone.
      if (claim.next_run_at) {
        const current = new Date(claim.next_run_at)
        this.arm(
          jobId,
          job,
          current.getTime() <= Date.now()
            ? new Date(Date.now() + CONTENDED_RETRY_MS)
            : current
        )
      } else {
        this.disarm(jobId)
      }
      return
    }

    this.arm(jobId, job, next)
    if (!claim.runs) {
      return
    }
    if (!allowConcurrent) {
      this.ticking.add(jobId)
    }
    try {
      const scheduledFor = new Date(claim.scheduled_for)
      const outcome = await inSpan(
        "workflow_engine.schedule.tick",
        {
          workflow_id: jobId,
          "workflow_engine.schedule.scheduled_for": scheduledFor.toISOString(),
        },
        () => job.handler(jobId, scheduledFor),
        { root: true }
      )
      if (outcome === "gone") {
        await this.remove(jobId)
      }
    } catch (error) {
      this.logger.error(
        `Scheduled workflow ${jobId} failed: ${error instanceof Error ? error.stack : error}`
      )
    } finally {
      if (!allowConcurrent) {
        // If this fails, the mark stays until this instance's next claim of the job clears it.
        await finishTick(this.db, jobId, this.config.instanceId).catch(
          (error) =>
            this.logger.warn(
              `Scheduled workflow ${jobId}: could not mark its tick finished: ${error}`
            )
        )
        this.ticking.delete(jobId)
      }
    }
  }
}
