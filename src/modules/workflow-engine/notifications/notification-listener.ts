import { Logger } from "@medusajs/framework/types"
import { Client, ClientConfig } from "pg"

type Handler = (payload: string) => void

const FIRST_RECONNECT_DELAY_MS = 100
const MAX_RECONNECT_DELAY_MS = 5000

/**
 * One LISTEN connection per instance, outside the pool (a pooled connection
 * would be handed to queries and lose its LISTENs). A lost connection is
 * opened again by itself, with a growing delay while the server is away; the
 * `onConnected` handlers then run, so that each part re-reads what it may
 * have missed while no notification could arrive.
 */
export class NotificationListener {
  private client?: Client
  private readonly handlers = new Map<string, Handler[]>()
  private readonly connectedHandlers: (() => void)[] = []
  private reconnectDelay = FIRST_RECONNECT_DELAY_MS
  private reconnectTimer?: NodeJS.Timeout
  private stopped = true

  constructor(
    private readonly connection: ClientConfig,
    private readonly logger: Logger
  ) {}

  on(channel: string, handler: Handler): void {
    this.handlers.set(channel, [...(this.handlers.get(channel) ?? []), handler])
  }

  onConnected(handler: () => void): void {
    this.connectedHandlers.push(handler)
  }

  async start(): Promise<void> {
    this.stopped = false
    await this.connect()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.reconnectTimer)
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => undefined)
  }

  private async connect(): Promise<void> {
    if (this.stopped) {
      return
    }
    const client = new Client({ ...this.connection, application_name: "medusa-workflow-engine-listener" })
    client.on("notification", ({ channel, payload }) => {
      for (const handler of this.handlers.get(channel) ?? []) {
        try {
          handler(payload ?? "")
        } catch (error) {
          this.logger.error(`Workflow engine: handling a notification on ${channel} failed: ${error}`)
        }
      }
    })
    client.on("error", (error) => this.lost(client, error))
    client.on("end", () => this.lost(client))
    try {
      await client.connect()
      for (const channel of this.handlers.keys()) {
        await client.query(`LISTEN "${channel}"`)
      }
    } catch (error) {
      this.lost(client, error)
      return
    }
    if (this.stopped) {
      await client.end().catch(() => undefined)
      return
    }
    this.client = client
    this.reconnectDelay = FIRST_RECONNECT_DELAY_MS
    for (const handler of this.connectedHandlers) {
      handler()
    }
  }

  private lost(client: Client, error?: unknown): void {
    if (this.client && this.client !== client) {
      return
    }
    const wasConnected = this.client === client
    this.client = undefined
    client.removeAllListeners()
    client.on("error", () => undefined)
    void client.end().catch(() => undefined)
    if (this.stopped || this.reconnectTimer) {
      return
    }
    if (wasConnected) {
      this.logger.warn(`Workflow engine: the LISTEN connection was lost (${error ?? "closed"}); reconnecting`)
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      void this.connect()
    }, this.reconnectDelay)
    this.reconnectTimer.unref()
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, MAX_RECONNECT_DELAY_MS)
  }
}
