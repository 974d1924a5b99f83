import { SchedulerOptions } from "@medusajs/framework/orchestration"
import { MedusaError } from "@medusajs/framework/utils"
import { parseExpression } from "cron-parser"

type Job = {
  options: SchedulerOptions
  timer?: NodeJS.Timeout
  executions: number
  running: boolean
}

/** Runs one tick of a scheduled workflow; `scheduledFor` is the tick's due time. */
export type TickHandler = (jobId: string, scheduledFor: Date) => Promise<"ok" | "unknown-workflow">

/** When the next tick of a schedule is due, strictly after `after`. */
export function nextRunAt(options: SchedulerOptions, after: Date): Date {
  if ("interval" in options && options.interval !== undefined) {
    return new Date(after.getTime() + options.interval)
  }
  if ("cron" in options && options.cron) {
    return parseExpression(options.cron, { currentDate: after }).next().toDate()
  }
  throw new MedusaError(
    MedusaError.Types.INVALID_ARGUMENT,
    "Schedule cron or interval definition is required for scheduled jobs."
  )
}

/**
 * Cron and interval schedules of this instance. A tick that is still running
 * when the next one is due is skipped unless the schedule allows concurrency.
 */
export class InProcessSchedules {
  private readonly jobs = new Map<string, Job>()

  constructor(
    private readonly onTick: TickHandler,
    private readonly onError: (jobId: string, error: unknown) => void
  ) {}

  schedule(jobId: string, options: SchedulerOptions): void {
    // Validates the expression before replacing a working schedule.
    const first = nextRunAt(options, new Date())
    this.remove(jobId)
    const job: Job = { options, executions: 0, running: false }
    this.jobs.set(jobId, job)
    this.arm(jobId, job, first)
  }

  remove(jobId: string): void {
    const job = this.jobs.get(jobId)
    if (job?.timer) {
      clearTimeout(job.timer)
    }
    this.jobs.delete(jobId)
  }

  removeAll(): void {
    for (const jobId of [...this.jobs.keys()]) {
      this.remove(jobId)
    }
  }

  private arm(jobId: string, job: Job, at: Date): void {
    job.timer = setTimeout(() => void this.tick(jobId, job, at), Math.max(0, at.getTime() - Date.now()))
    // A schedule alone must not keep the process alive.
    job.timer.unref()
  }

  private async tick(jobId: string, job: Job, scheduledFor: Date): Promise<void> {
    if (this.jobs.get(jobId) !== job) {
      return
    }
    if (job.running && job.options.concurrency !== "allow") {
      this.arm(jobId, job, nextRunAt(job.options, new Date()))
      return
    }

    job.executions++
    const limit = job.options.numberOfExecutions
    if (limit !== undefined && job.executions >= limit) {
      this.jobs.delete(jobId)
    } else {
      this.arm(jobId, job, nextRunAt(job.options, new Date()))
    }

    job.running = true
    try {
      if ((await this.onTick(jobId, scheduledFor)) === "unknown-workflow") {
        this.remove(jobId)
      }
    } catch (error) {
      this.onError(jobId, error)
    } finally {
      job.running = false
    }
  }
}
