import net from "net"
import { freePort } from "./free-port"

/**
 * A TCP proxy on loopback to the tests' Postgres that can go silent: after
 * `freeze()` the connections it carries stay open but nothing passes either
 * way, as when a NAT or a failover drops a connection without telling
 * either end. Connections opened after the freeze pass as usual.
 */
export class FreezableProxy {
  private constructor(
    private readonly server: net.Server,
    private readonly carried: Set<net.Socket>,
    readonly port: number
  ) {}

  static async start(): Promise<FreezableProxy> {
    const port = await freePort()
    const target = {
      host: process.env.DB_HOST ?? "localhost",
      port: Number(process.env.DB_PORT ?? 5432),
    }
    const carried = new Set<net.Socket>()
    const server = net.createServer((client) => {
      const upstream = net.connect(target)
      for (const socket of [client, upstream]) {
        carried.add(socket)
        socket.on("error", () => undefined)
        socket.on("close", () => carried.delete(socket))
      }
      client.pipe(upstream)
      upstream.pipe(client)
    })
    await new Promise<void>((resolve) =>
      server.listen(port, "127.0.0.1", resolve)
    )
    return new FreezableProxy(server, carried, port)
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
      socket.unpipe()
      socket.pause()
    }
  }

  async close(): Promise<void> {
    for (const socket of this.carried) {
      socket.destroy()
    }
    await new Promise((resolve) => this.server.close(resolve))
  }
}
