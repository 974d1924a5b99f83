import { Logger } from "@medusajs/framework/types"
import { CallsInHand } from "./storage/calls-in-hand"
import { untilReachable } from "./storage/connection-loss"
import { InstanceLease, runsWork } from "./instances/instance-lease"
import { EventDelivery } from "./events/event-delivery"
import {
  EVENT_CHANNEL,
  SCHEDULE_CHANNEL,
  TIMER_CHANNEL,
} from "./notifications/channels"
import { NotificationListener } from "./notifications/notification-listener"
import { CrashRecovery } from "./recovery/crash-recovery"
import { ClusterSchedules } from "./schedules/cluster-schedules"
import { DurableTimers } from "./timers/durable-timers"
import { OnlineUpgradeRunner } from "./upgrade/online-upgrade-runner"

/**
 * Owns every background loop of the engine and their order: the lease first
 * (the others' claims rest on it), then the LISTEN connection, then what a
 * worker runs (timers, schedules, the recovery of dead instances' runs).
 * Stops in the reverse order, and waits for the work in hand and the storage
 * calls in flight, so a deploy's shutdown hands nothing over half-done. A
 * `server` instance keeps its lease and listener (its runs still set timers
 * and its subscribers hear other instances) but runs no timer, tick or
 * recovery.
 */
export class Supervisor {
  private started = false
  private starting?: Promise<void>
  private stopping?: Promise<void>

  constructor(
    private readonly logger: Logger,
    private readonly lease: InstanceLease,
    private readonly listener: NotificationListener,
    private readonly timers: DurableTimers,
    private readonly schedules: ClusterSchedules,
    private readonly recovery: CrashRecovery,
    readonly upgrade: OnlineUpgradeRunner,
    private readonly storageCalls: CallsInHand,
    /** What the start's log says of the connections (see db.ts): the pool's size, where sessions open. */
    private readonly connections: { poolMax: number; session: string },
    private readonly events: EventDelivery
  ) {
    lease.onDeadInstances(() => recovery.wake())
    lease.onRenewed((sentAt) => listener.heartbeatSent(sentAt))
    listener.on(TIMER_CHANNEL, (setBy) => timers.wake(setBy))
    listener.on(SCHEDULE_CHANNEL, () => void this.refreshSchedules())
    listener.on(EVENT_CHANNEL, () => events.wake())
    listener.onCatchUp(() => {
      events.wake()
      // Whatever was announced while no connection listened (or, when polling, since the last poll) is read from the tables.
      timers.wake()
      void this.refreshSchedules()
    })
  }

  get runsWork(): boolean {
    return runsWork(this.lease.workerMode)
  }

  async start(): Promise<void> {
    if (this.started) {
      return
    }
    this.starting ??= this.startParts().finally(
      () => (this.starting = undefined)
    )
    await this.starting
  }

  /*
   * Started once every part has started. A part that cannot start because
   * Postgres cannot be reached (an instance started while the database
   * restarts) waits for it, as a run's checkpoint does: an instance that
   * served runs without a lease would have them taken over under it, and
   * nothing would look for them once it died. A part that cannot start for
   * any other reason stops the ones started before it, and the cause is
   * logged here: Medusa swallows what a module's onApplicationStart throws,
   * and an instance must not run half of its background work, or none of
   * it, without saying so.
   */
  private async startParts(): Promise<void> {
    type Part = { start(): unknown; stop(): Promise<void> }
    const work = (parts: [string, Part][]) => (this.runsWork ? parts : [])
    const parts: [string, Part][] = [
      // Recovery first, so that dead instances the lease's first renewal sees are recovered.
      ...work([["crash recovery", this.recovery]]),
      ["its lease", this.lease],
      ["its notification listener", this.listener],
      ...work([
        ["its timers", this.timers],
        ["its schedules", this.schedules],
        ["its event delivery", this.events],
        // What the migrations left (index builds, back-fills), online, on a session of its own, which a pooler does not give.
        [
          "the online upgrade",
          {
            start: () =>
              this.upgrade.start({
                sessionUsable: this.listener.mode === "listening",
              }),
            stop: () => this.upgrade.stop(),
          },
        ],
      ]),
    ]
    const started: [string, Part][] = []
    for (const [name, part] of parts) {
      try {
        await untilReachable(
          this.logger,
          `starting ${name}`,
          async () => await part.start()
        )
        started.push([name, part])
      } catch (error) {
        for (const [startedName, startedPart] of started.reverse()) {
          await startedPart
            .stop()
            .catch((stopError) =>
              this.logger.warn(
                `Workflow engine instance ${this.lease.id} could not stop ${startedName}: ${stopError}`
              )
            )
        }
        this.logger.error(
          `Workflow engine instance ${this.lease.id} could not start ${name}, so none of its background work ` +
            `runs (timers, schedules, recovery, notifications from other instances): ${error}`
        )
        throw error
      }
    }
    this.started = true
    this.logger.info(
      `Workflow engine instance ${this.lease.id} started (${this.lease.workerMode} mode` +
        `${this.runsWork ? ": runs timers, schedules, recovery and event delivery" : ": runs no background work"}; ` +
        `${this.listener.mode === "listening" ? "listens for notifications" : "polls for changes"}). ` +
        `Connections it holds: those of Medusa's pool (at most ${this.connections.poolMax}), ` +
        `${this.listener.mode === "listening" ? `1 LISTEN connection to ${this.connections.session}, ` : ""}` +
        `and 1 more to ${this.connections.session} while an online upgrade runs.`
    )
    if (!this.runsWork) {
      await this.upgrade.warnIfPending()
    }
  }

  /**
   * Called at both of Medusa's shutdown hooks: the second only waits for
   * what was called in between; a stop while another is under way waits for
   * it. With `poolClosed` (the pool closes without a shutdown, see
   * current-engine.ts) the lease is left to run out.
   */
  async stop({
    poolClosed = false,
  }: { poolClosed?: boolean } = {}): Promise<void> {
    // A start that failed said why (startParts); the stop goes on regardless.
    await this.starting?.catch(() => undefined)
    if (this.started) {
      this.started = false
      this.stopping = this.stopParts(poolClosed)
    }
    await this.stopping
    await this.storageCalls.drained(this.logger)
  }

  private async stopParts(poolClosed: boolean): Promise<void> {
    // Nothing new starts from here on; then the work in hand is waited for.
    const stopping = [
      this.upgrade.stop(),
      this.recovery.stop(),
      this.schedules.stop(),
      this.events.stop(),
      this.timers.stop({ handBack: !poolClosed }),
      this.listener.stop(),
    ]
    await Promise.allSettled(stopping)
    await this.storageCalls.drained(this.logger)
    if (poolClosed) {
      this.lease.stopRenewing()
    } else {
      await this.lease.stop()
    }
  }

  private async refreshSchedules(): Promise<void> {
    await this.schedules
      .refresh()
      .catch((error) =>
        this.logger.warn(
          `Workflow engine: could not re-read the schedules: ${error}`
        )
      )
  }
}
