import { Logger } from "@medusajs/framework/types"
import { Client, ClientConfig } from "pg"
import { Queryable } from "../db"

type Handler = (payload: string) => void

export type NotificationListenerConfig = {
  /** This instance's own channel (see heartbeatChannel), which its heartbeats notify. */
  heartbeatChannel: string
  /** How often to re-read what notifications would have said, when they cannot arrive. */
  pollIntervalMs: number
  /** Whether `connection` is the store's `directDatabaseUrl`: only for the log. */
  direct: boolean
}

/** How notifications reach this instance: a LISTEN connection, or a look at the tables every `pollIntervalMs`. */
export type ListenerMode = "listening" | "polling"

const FIRST_RECONNECT_DELAY_MS = 100
const MAX_RECONNECT_DELAY_MS = 5000
/** How long a heartbeat may take to come back before the connection counts as deaf. */
export const HEARTBEAT_DEADLINE_MS = 5000

/**
 * One LISTEN connection per instance, outside the pool (a pooled connection
 * would be handed to queries and lose its LISTENs). A lost connection is
 * opened again by itself, with a growing delay while the server is away; the
 * `onCatchUp` handlers then run, so that each part re-reads what it may have
 * missed while no notification could arrive.
 *
 * A connection can be deaf without an error: behind a transaction pooler a
 * LISTEN lands on whichever server session the pooler lent, and a cut that
 * no packet reports (a NAT, a failover) leaves the socket open. So the
 * listener checks that it hears itself: right after it connects, a NOTIFY
 * sent through the pool must come back; later, each of the lease's renewals
 * notifies the instance's own channel (see `heartbeatSent`). A connection
 * that never heard its first probe is a pooler's: the listener says so once
 * and polls instead, running the `onCatchUp` handlers every `pollIntervalMs`.
 * One that stops hearing its heartbeat is opened again.
 */
export class NotificationListener {
  private client?: Client
  private readonly handlers = new Map<string, Handler[]>()
  private readonly catchUpHandlers: (() => void)[] = []
  private reconnectDelay = FIRST_RECONNECT_DELAY_MS
  private reconnectTimer?: NodeJS.Timeout
  private pollTimer?: NodeJS.Timeout
  private heartbeatDeadline?: NodeJS.Timeout
  private awaited = new Map<string, () => void>()
  private probes = 0
  private lastHeardAt = 0
  private heardThroughNow?: Date
  private everHeard = false
  private stopped = true
  private modeNow: ListenerMode = "listening"

  constructor(
    private readonly connection: ClientConfig,
    private readonly pool: Queryable,
    private readonly logger: Logger,
    private readonly config: NotificationListenerConfig
  ) {}

  get mode(): ListenerMode {
    return this.modeNow
  }

  /** Whether the LISTEN connection is up now (false while polling or reconnecting). */
  get connected(): boolean {
    return !!this.client
  }

  /**
   * The database time of the last heartbeat heard: every notification
   * committed before it was delivered (Postgres delivers them in commit
   * order), so after a gap only what came later can have been missed.
   */
  get heardThrough(): Date | undefined {
    return this.heardThroughNow
  }

  on(channel: string, handler: Handler): void {
    this.handlers.set(channel, [...(this.handlers.get(channel) ?? []), handler])
  }

  /** Runs after every (re)connection, and on every poll when polling: re-read what may have been missed. */
  onCatchUp(handler: () => void): void {
    this.catchUpHandlers.push(handler)
  }

  async start(): Promise<void> {
    this.stopped = false
    await this.connect()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.reconnectTimer)
    clearInterval(this.pollTimer)
    clearTimeout(this.heartbeatDeadline)
    this.pollTimer = undefined
    this.heartbeatDeadline = undefined
    const client = this.client
    this.client = undefined
    await client
      ?.end()
      .catch((error) =>
        this.logger.debug(
          `Workflow engine: closing the LISTEN connection: ${error}`
        )
      )
  }

  /**
   * A NOTIFY on this instance's channel, sent at `sentAt` (Date.now()), was
   * committed (a lease renewal): unless something was heard on the channel
   * since, it must arrive within HEARTBEAT_DEADLINE_MS, or the connection is
   * deaf.
   */
  heartbeatSent(sentAt: number): void {
    const client = this.client
    if (
      this.stopped ||
      !client ||
      this.heartbeatDeadline ||
      this.lastHeardAt >= sentAt
    ) {
      return
    }
    this.heartbeatDeadline = setTimeout(() => {
      this.heartbeatDeadline = undefined
      this.lost(
        client,
        new Error(`no heartbeat within ${HEARTBEAT_DEADLINE_MS} ms`)
      )
    }, HEARTBEAT_DEADLINE_MS)
    this.heartbeatDeadline.unref()
  }

  private async connect(): Promise<void> {
    if (this.stopped) {
      return
    }
    const client = new Client({
      ...this.connection,
      application_name: "medusa-workflow-engine-listener",
    })
    client.on("notification", ({ channel, payload }) =>
      this.deliver(channel, payload ?? "")
    )
    client.on("error", (error) => this.lost(client, error))
    client.on("end", () => this.lost(client))
    let heard: boolean
    try {
      await client.connect()
      for (const channel of [
        ...this.handlers.keys(),
        this.config.heartbeatChannel,
      ]) {
        await client.query(`LISTEN "${channel}"`)
      }
      heard = await this.probe()
    } catch (error) {
      this.lost(client, error)
      return
    }
    if (this.stopped) {
      await client
        .end()
        .catch((error) =>
          this.logger.debug(
            `Workflow engine: closing the LISTEN connection: ${error}`
          )
        )
      return
    }
    if (!heard && this.everHeard) {
      // This URL delivered notifications before: the server is slow or the connection half-open; try again.
      this.lost(
        client,
        new Error(
          `its first NOTIFY did not come back within ${HEARTBEAT_DEADLINE_MS} ms`
        )
      )
      return
    }
    if (!heard) {
      this.forget(client)
      this.poll()
      return
    }
    this.everHeard = true
    this.client = client
    this.reconnectDelay = FIRST_RECONNECT_DELAY_MS
    this.catchUp()
  }

  /** Sends a NOTIFY through the pool to this instance's channel and waits for it to come back. */
  private async probe(): Promise<boolean> {
    const nonce = `probe-${++this.probes}`
    const arrived = new Promise<boolean>((resolve) => {
      const deadline = setTimeout(() => resolve(false), HEARTBEAT_DEADLINE_MS)
      this.awaited.set(nonce, () => {
        clearTimeout(deadline)
        resolve(true)
      })
    })
    try {
      await this.pool.raw(`SELECT pg_notify(?, ?)`, [
        this.config.heartbeatChannel,
        nonce,
      ])
      return await arrived
    } finally {
      this.awaited.delete(nonce)
    }
  }

  private deliver(channel: string, payload: string): void {
    if (channel === this.config.heartbeatChannel) {
      this.lastHeardAt = Date.now()
      clearTimeout(this.heartbeatDeadline)
      this.heartbeatDeadline = undefined
      const awaited = this.awaited.get(payload)
      if (awaited) {
        awaited()
      } else if (!Number.isNaN(Date.parse(payload))) {
        this.heardThroughNow = new Date(payload)
      }
      return
    }
    for (const handler of this.handlers.get(channel) ?? []) {
      try {
        handler(payload)
      } catch (error) {
        this.logger.error(
          `Workflow engine: handling a notification on ${channel} failed: ${error}`
        )
      }
    }
  }

  private poll(): void {
    this.modeNow = "polling"
    const where = this.config.direct
      ? "through directDatabaseUrl"
      : "through the database URL"
    this.logger.warn(
      `Workflow engine: a NOTIFY sent ${where} did not come back to its LISTEN within ${HEARTBEAT_DEADLINE_MS} ms, ` +
        `as happens behind a transaction pooler (PgBouncer in transaction mode, Supavisor, Neon's -pooler hosts). ` +
        `This instance polls instead: timers, schedules and other instances' finishes are seen within ` +
        `pollIntervalMs (${this.config.pollIntervalMs} ms). ` +
        (this.config.direct
          ? `Check that directDatabaseUrl reaches Postgres itself, not a pooler.`
          : `Set the module option directDatabaseUrl to a direct connection to listen instead (see "Behind a connection pooler" in the README).`)
    )
    this.catchUp()
    this.pollTimer = setInterval(
      () => this.catchUp(),
      this.config.pollIntervalMs
    )
    this.pollTimer.unref()
  }

  private catchUp(): void {
    for (const handler of this.catchUpHandlers) {
      handler()
    }
  }

  private forget(client: Client): void {
    if (this.client === client) {
      this.client = undefined
    }
    clearTimeout(this.heartbeatDeadline)
    this.heartbeatDeadline = undefined
    client.removeAllListeners()
    // What broke it was reported by lost(); what closing it says is only worth a debug line.
    client.on("error", () => undefined)
    void client
      .end()
      .catch((error) =>
        this.logger.debug(
          `Workflow engine: closing a LISTEN connection it gave up: ${error}`
        )
      )
  }

  private lost(client: Client, error?: unknown): void {
    if (this.client && this.client !== client) {
      return
    }
    const wasConnected = this.client === client
    this.forget(client)
    if (this.stopped || this.reconnectTimer) {
      return
    }
    if (wasConnected || error) {
      this.logger.warn(
        `Workflow engine: the LISTEN connection was lost (${error ?? "closed"}); reconnecting`
      )
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      void this.connect()
    }, this.reconnectDelay)
    this.reconnectTimer.unref()
    this.reconnectDelay = Math.min(
      this.reconnectDelay * 2,
      MAX_RECONNECT_DELAY_MS
    )
  }
}
