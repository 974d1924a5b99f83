import { IEventBusModuleService, Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { claimDueEvents, ClaimedEvent } from "./sql/claim-due-events"
import { deferEvent } from "./sql/defer-event"
import { markDelivered } from "./sql/mark-delivered"
import { nextEventWait } from "./sql/next-event-wait"
import { removeDelivered } from "./sql/remove-delivered"
import { WorkflowExecutionEventData } from "./event-payload"

/** How the deliverer retries a hand-over the event bus refused. */
export type DeliverySettings = {
  /** Milliseconds between two looks at the outbox when no notification comes (the module option `pollIntervalMs`). */
  pollIntervalMs: number
  /** Hand-overs of one event before it is given up (left undelivered, logged and counted). */
  maxAttempts: number
  /** Seconds before the first retry; each next one waits twice as long, at most `maxRetryDelaySeconds`. */
  firstRetryDelaySeconds: number
  maxRetryDelaySeconds: number
}

export const DEFAULT_DELIVERY: Omit<DeliverySettings, "pollIntervalMs"> = {
  maxAttempts: 10,
  firstRetryDelaySeconds: 1,
  maxRetryDelaySeconds: 300,
}

const BATCH = 100
// Delivered events are kept this long, so that a late second write of the same end finds its dedupe key taken.
const DELIVERED_KEPT_SECONDS = 7 * 24 * 60 * 60
const REMOVE_DELIVERED_EVERY_MS = 60 * 60 * 1000

/**
 * Delivers the outbox's events (`workflow_engine_event`) to Medusa's event
 * bus, once: each is claimed under its row lock by one instance, handed to
 * the bus, and marked delivered in the transaction that claimed it. Runs on
 * workers (started by the supervisor); woken by the outbox's NOTIFY, by the
 * listener's catch-up, by the next retry's due time and by a poll.
 */
export class EventDelivery {
  private started = false
  private passing?: Promise<void>
  private passAgain = false
  private timer?: NodeJS.Timeout
  private lastRemoval = 0
  private warnedNoBus = false
  // What the last pass learnt of the next due time, so that an idle pass costs one statement, not a claim and a look.
  private knownWait?: { ms: number | null }

  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    private readonly settings: DeliverySettings,
    /** Medusa's event bus, resolved at each pass: undefined while none is registered. */
    private readonly eventBus: () => IEventBusModuleService | undefined
  ) {}

  start(): void {
    this.started = true
    this.wake()
  }

  /** Waits for the delivery in hand; starts none after. */
  async stop(): Promise<void> {
    this.started = false
    clearTimeout(this.timer)
    await this.passing
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

  /**
   * Delivers every event due now (in batches); returns how many reached the
   * bus. Events whose hand-over failed wait for their retry's due time.
   */
  async deliverNow(): Promise<number> {
    const wait = await nextEventWait(this.db)
    if (wait !== 0) {
      this.knownWait = { ms: wait }
      return 0
    }
    this.knownWait = undefined
    const bus = this.eventBus()
    let delivered = 0
    for (;;) {
      const { claimed, handed } = await this.db.transaction(async (trx) => {
        const events = await claimDueEvents(trx, BATCH)
        if (events.length && !bus) {
          this.warnNoBus()
          return { claimed: 0, handed: 0 }
        }
        return {
          claimed: events.length,
          handed: await this.hand(trx, bus!, events),
        }
      })
      delivered += handed
      if (claimed < BATCH) {
        break
      }
    }
    await this.removeOldDelivered()
    return delivered
  }

  // Said once per process, when there is something to deliver: the events wait in the outbox, none is lost.
  private warnNoBus(): void {
    if (this.warnedNoBus) {
      return
    }
    this.warnedNoBus = true
    this.logger.warn(
      `Workflow engine: no event bus (Modules.EVENT_BUS) is registered, so the workflow events ` +
        `(workflow_execution.failed, …) stay in workflow_engine_event until one is.`
    )
  }

  private async hand(
    trx: Knex.Transaction,
    bus: IEventBusModuleService,
    events: ClaimedEvent[]
  ): Promise<number> {
    const delivered: string[] = []
    for (const event of events) {
      const data = {
        ...event.payload,
        event_id: event.id,
      } as WorkflowExecutionEventData
      try {
        await bus.emit({
          name: event.name,
          data,
          metadata: { event_id: event.id, source: "workflow-engine" },
        })
        delivered.push(event.id)
      } catch (error) {
        await this.defer(trx, event, data, error)
      }
    }
    if (delivered.length) {
      await markDelivered(trx, delivered)
    }
    return delivered.length
  }

  private async defer(
    trx: Knex.Transaction,
    event: ClaimedEvent,
    data: WorkflowExecutionEventData,
    error: unknown
  ): Promise<void> {
    const attempts = event.attempts + 1
    const message = error instanceof Error ? error.message : String(error)
    const givenUp = attempts >= this.settings.maxAttempts
    const retryIn = givenUp
      ? null
      : Math.min(
          this.settings.firstRetryDelaySeconds * 2 ** (attempts - 1),
          this.settings.maxRetryDelaySeconds
        )
    await deferEvent(trx, event.id, message, retryIn)
    const what =
      `Workflow ${data.workflow_id} (transaction ${data.transaction_id}): the event bus refused ` +
      `${event.name} (${event.id}) on attempt ${attempts} of ${this.settings.maxAttempts}: ${message}`
    if (givenUp) {
      this.logger.error(
        `${what}. It is given up and stays in workflow_engine_event, undelivered (the storage report counts it).`
      )
    } else {
      this.logger.warn(`${what}; tried again in ${retryIn} s.`)
    }
  }

  private async removeOldDelivered(): Promise<void> {
    if (Date.now() - this.lastRemoval < REMOVE_DELIVERED_EVERY_MS) {
      return
    }
    this.lastRemoval = Date.now()
    await removeDelivered(this.db, DELIVERED_KEPT_SECONDS, 10 * BATCH)
  }

  private async passes(): Promise<void> {
    clearTimeout(this.timer)
    do {
      this.passAgain = false
      await this.deliverNow().catch((error) =>
        this.logger.warn(
          `Workflow engine: a pass delivering workflow events stopped, the next one tries again: ${error}`
        )
      )
    } while (this.passAgain && this.started)
    await this.arm()
  }

  // The next pass: when the next retry is due, or after the poll interval, whichever comes first.
  private async arm(): Promise<void> {
    if (!this.started) {
      return
    }
    const wait = this.knownWait
      ? this.knownWait.ms
      : await nextEventWait(this.db).catch(() => null)
    this.knownWait = undefined
    const delay = Math.min(wait ?? Infinity, this.settings.pollIntervalMs)
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.wake(), delay)
    this.timer.unref?.()
  }
}
