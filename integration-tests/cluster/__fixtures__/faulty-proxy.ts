import net from "net"
import { freePort } from "./free-port"

/**
 * A TCP proxy on loopback to the tests' Postgres that fails as networks do.
 * After `freeze()` the connections it carries stay open but nothing passes
 * either way, as when a NAT or a failover drops a connection without telling
 * either end; connections opened after the freeze pass as usual. After
 * `cutReplyTo(marker)`, the next statement whose bytes hold the marker (its
 * text, or a prepared statement's name) reaches Postgres, which runs and
 * commits it, and its connection is cut as the reply comes: the client
 * cannot tell whether the statement ran. While `stallNewConnections()`
 * holds, a new connection is accepted and never answered, as a server
 * that is failing over or whose network drops packets.
 */
export class FaultyProxy {
  private armed: { marker: Buffer; cut: () => void } | undefined
  private stalling = false

  private constructor(
    private readonly server: net.Server,
    private readonly carried: Set<net.Socket>,
    readonly port: number
  ) {}

  static async start(): Promise<FaultyProxy> {
    const port = await freePort()
    const target = {
      host: process.env.DB_HOST ?? "localhost",
      port: Number(process.env.DB_PORT ?? 5432),
    }
    const carried = new Set<net.Socket>()
    const server = net.createServer()
    const proxy = new FaultyProxy(server, carried, port)
    server.on("connection", (client) => proxy.accept(client, target))
    await new Promise<void>((resolve) =>
      server.listen(port, "127.0.0.1", resolve)
    )
    return proxy
  }

  private accept(client: net.Socket, target: net.TcpNetConnectOpts): void {
    if (!this.stalling) {
      this.carry(client, target)
      return
    }
    this.carried.add(client)
    client.on("error", () => undefined)
    client.on("close", () => this.carried.delete(client))
  }

  private carry(client: net.Socket, target: net.TcpNetConnectOpts): void {
    const upstream = net.connect(target)
    for (const socket of [client, upstream]) {
      this.carried.add(socket)
      socket.on("error", () => undefined)
      socket.on("close", () => this.carried.delete(socket))
    }
    client.on("close", () => upstream.destroy())
    upstream.on("close", () => client.destroy())
    let cutting = false
    client.on("data", (chunk: Buffer) => {
      const armed = this.armed
      if (armed && chunk.includes(armed.marker)) {
        this.armed = undefined
        cutting = true
        upstream.once("data", () => {
          client.destroy()
          upstream.destroy()
          armed.cut()
        })
      }
      upstream.write(chunk)
    })
    upstream.on("data", (chunk: Buffer) => {
      if (!cutting) {
        client.write(chunk)
      }
    })
  }

  /** A URL to a database through the proxy. */
  url(database: string): string {
    const user = process.env.DB_USERNAME ?? "postgres"
    const password = process.env.DB_PASSWORD
      ? `:${process.env.DB_PASSWORD}`
      : ""
    return `postgres://${user}${password}@localhost:${this.port}/${database}`
  }

  /** The connections carried now go silent, and stay open. */
  freeze(): void {
    for (const socket of this.carried) {
      socket.pause()
    }
  }

  /** New connections are accepted and left unanswered, until resumeNewConnections. */
  stallNewConnections(): void {
    this.stalling = true
  }

  /** New connections pass again; the ones stalled stay so until their clients give up. */
  resumeNewConnections(): void {
    this.stalling = false
  }

  /** Loses the reply to the next statement that holds `marker`; resolves once it was cut. */
  cutReplyTo(marker: string): Promise<void> {
    return new Promise((resolve) => {
      this.armed = { marker: Buffer.from(marker), cut: resolve }
    })
  }

  async close(): Promise<void> {
    for (const socket of this.carried) {
      socket.destroy()
    }
    await new Promise((resolve) => this.server.close(resolve))
  }
}
