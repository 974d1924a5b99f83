import { Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { hostname } from "os"
import { ulid } from "ulid"
import { endLease } from "./sql/end-lease"
import { InstanceRow, Renewal, renewInstance } from "./sql/renew-instance"

/** What Medusa's `workerMode` lets an instance do. */
export type WorkerMode = "shared" | "worker" | "server"

/**
 * Whether an instance runs the engine's background work: fires timers, runs
 * schedule ticks, recovers dead instances' runs, runs the online upgrade. A
 * `server` instance runs none of it (it still sets timers for its runs).
 */
export function runsWork(workerMode: WorkerMode): boolean {
  return workerMode !== "server"
}

/**
 * This instance's liveness, as the others see it: a row whose lease the
 * heartbeat renews several times per lease. An instance that dies stops
 * renewing, and once the lease ran out (database clock) its timers, ticks
 * and runs in flight are taken over. The fence of a run's writes asks it
 * whether it may have lapsed (OwnLease in storage/fencing; the loader's
 * wiring checks that it fits, so this lower part need not import storage/).
 */
export class InstanceLease {
  readonly id = `wf_inst_${ulid()}`
  private heartbeat?: NodeJS.Timeout
  private readonly row: InstanceRow
  private readonly deadInstanceHandlers: (() => void)[] = []
  private readonly renewedHandlers: ((sentAt: number) => void)[] = []
  /** Since when this instance's own renewals have gone through without a gap (see tell). */
  private healthySince = Infinity
  /** When the last renewal that went through was sent: the lease holds for at least leaseMs after it. */
  private renewedSentAt = 0
  /** When this instance last found its lease gone (0: never): it was judged dead, its runs may have been taken over. */
  private lapsedAt = 0
  private renewing?: Promise<void>

  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    readonly workerMode: WorkerMode,
    private readonly leaseMs: number
  ) {
    this.row = {
      id: this.id,
      hostname: hostname(),
      pid: process.pid,
      worker_mode: workerMode,
    }
  }

  get renewEveryMs(): number {
    return Math.floor(this.leaseMs / 4)
  }

  /** Called after each renewal that saw dead instances' rows: they may have left work to recover. */
  onDeadInstances(handler: () => void): void {
    this.deadInstanceHandlers.push(handler)
  }

  /** Called after each renewal that went through, with when it was sent (its NOTIFY is the listener's heartbeat). */
  onRenewed(handler: (sentAt: number) => void): void {
    this.renewedHandlers.push(handler)
  }

  /**
   * Whether the lease may have run out at some moment since `since`: its last
   * renewal is older than most of a lease (a pause, a cut connection), or a
   * renewal since then found it gone. A lease never started is no one's to
   * lose (nothing of this instance is judged by it).
   */
  lapsedSince(since: number): boolean {
    if (!this.renewedSentAt) {
      return false
    }
    return (
      Date.now() - this.renewedSentAt >= (this.leaseMs * 3) / 4 ||
      this.lapsedAt >= since
    )
  }

  /** Renews the lease now when it may have run out (one renewal for every caller waiting on it). */
  async confirm(): Promise<void> {
    if (
      !this.renewedSentAt ||
      Date.now() - this.renewedSentAt < (this.leaseMs * 3) / 4
    ) {
      return
    }
    this.renewing ??= this.renew().finally(() => (this.renewing = undefined))
    await this.renewing
  }

  async start(): Promise<void> {
    this.healthySince = Date.now()
    const sentAt = Date.now()
    this.tell(await renewInstance(this.db, this.row, this.leaseMs), sentAt)
    this.heartbeat = setInterval(() => void this.renew(), this.renewEveryMs)
    this.heartbeat.unref()
  }

  async stop(): Promise<void> {
    this.stopRenewing()
    await endLease(this.db, this.id).catch((error) =>
      this.logger.warn(
        `Workflow engine: could not end the lease of ${this.id}: ${error}`
      )
    )
  }

  /** Stops the heartbeat and leaves the lease to run out: for a pool that is gone, where it cannot be ended. */
  stopRenewing(): void {
    clearInterval(this.heartbeat)
    this.heartbeat = undefined
  }

  private async renew(): Promise<void> {
    if (!this.heartbeat) {
      return
    }
    const sentAt = Date.now()
    try {
      const renewal = await renewInstance(this.db, this.row, this.leaseMs)
      if (!renewal.renewed) {
        this.lapsedAt = Date.now()
        this.healthySince = Date.now()
        this.logger.warn(
          `Workflow engine instance ${this.id} found its lease gone (it was judged dead after a pause or a lost ` +
            `connection); it goes on with a new lease; timers and runs it held may have been taken over meanwhile, and its writes to those are refused.`
        )
      }
      this.tell(renewal, sentAt)
    } catch (error) {
      this.healthySince = Infinity
      this.logger.warn(
        `Workflow engine instance ${this.id} could not renew its lease: ${error}`
      )
    }
  }

  /*
   * Only an instance whose own lease has held for a whole lease judges the
   * others: after the database was away, or this process was paused, every
   * lease may have run out at once, and the living need one lease to renew
   * theirs before an expired one means a dead instance.
   */
  private tell(renewal: Renewal, sentAt: number): void {
    this.renewedSentAt = Math.max(this.renewedSentAt, sentAt)
    this.renewedHandlers.forEach((handler) => handler(sentAt))
    if (this.healthySince === Infinity) {
      this.healthySince = Date.now()
    }
    if (
      renewal.deadInstances > 0 &&
      Date.now() - this.healthySince >= this.leaseMs
    ) {
      this.deadInstanceHandlers.forEach((handler) => handler())
    }
  }
}
