import { Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { hostname } from "os"
import { ulid } from "ulid"
import { removeInstance } from "./sql/remove-instance"
import { InstanceRow, renewInstance } from "./sql/renew-instance"

/** What Medusa's `workerMode` lets an instance do. */
export type WorkerMode = "shared" | "worker" | "server"

/**
 * This instance's liveness, as the others see it: a row whose lease the
 * heartbeat renews several times per lease. An instance that dies stops
 * renewing, and once the lease ran out (database clock) its timers, ticks
 * and runs in flight are taken over.
 */
export class InstanceLease {
  readonly id = `wf_inst_${ulid()}`
  private heartbeat?: NodeJS.Timeout
  private readonly row: InstanceRow

  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    readonly workerMode: WorkerMode,
    private readonly leaseMs: number
  ) {
    this.row = { id: this.id, hostname: hostname(), pid: process.pid, worker_mode: workerMode }
  }

  get renewEveryMs(): number {
    return Math.floor(this.leaseMs / 4)
  }

  async start(): Promise<void> {
    await renewInstance(this.db, this.row, this.leaseMs)
    this.heartbeat = setInterval(() => void this.renew(), this.renewEveryMs)
    this.heartbeat.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat)
    this.heartbeat = undefined
    await removeInstance(this.db, this.id).catch((error) =>
      this.logger.warn(`Workflow engine: could not end the lease of ${this.id}: ${error}`)
    )
  }

  private async renew(): Promise<void> {
    if (!this.heartbeat) {
      return
    }
    try {
      if (!(await renewInstance(this.db, this.row, this.leaseMs))) {
        this.logger.warn(
          `Workflow engine instance ${this.id} found its lease gone (it was judged dead after a pause or a lost ` +
            `connection); it goes on with a new lease; timers and runs it held may have been taken over meanwhile.`
        )
      }
    } catch (error) {
      this.logger.warn(`Workflow engine instance ${this.id} could not renew its lease: ${error}`)
    }
  }
}
