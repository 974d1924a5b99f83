import path from "path"
import {
  Instance,
  isRunning,
  kill,
  startInstance,
} from "../cluster/__fixtures__/instances"

const SCRIPT = path.join(__dirname, "__fixtures__/soak-instance.ts")
// A replacement started while the database is away exits before it is ready: it is started again, this many times.
const START_ATTEMPTS = 10
const START_RETRY_MS = 1000

/** One engine process's life, as the figures and the checks need it. */
export type ProcessLife = {
  /** `<slot><generation>`: a1, a2, … */
  name: string
  slot: string
  pid: number
  readyAt: number
  killedAt?: number
  /** What it printed (its logger's warnings and errors included). */
  output: () => string
}

/**
 * A place for one engine instance: the process in it now, which a kill
 * replaces by a new one (a new process, a new instance id, as a restarted
 * container is). Clients ask the slot for its running instance and wait
 * while it is being replaced.
 */
export class InstanceSlot {
  private generation = 0
  private current: Promise<Instance>
  private live: Instance | undefined

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
    private readonly lives: ProcessLife[]
  ) {
    this.current = this.startNext()
  }

  /** The running instance, once there is one. */
  running(): Promise<Instance> {
    return this.current
  }

  /** Whether a process is up and ready in this slot now (not being replaced). */
  isUp(): boolean {
    return this.live !== undefined && isRunning(this.live)
  }

  /** SIGKILLs the process in this slot and starts its replacement; resolves with the killed process's life. */
  kill(): ProcessLife {
    const instance = this.live!
    const life = this.lives.find((entry) => entry.pid === instance.child.pid)!
    this.live = undefined
    life.killedAt = Date.now()
    void kill(instance)
    this.current = this.startNext()
    return life
  }

  /** Ends the process in this slot (SIGKILL: the soak is over and its database goes with it). */
  async stop(): Promise<void> {
    const instance = await this.current.catch(() => undefined)
    this.live = undefined
    if (instance) {
      await kill(instance)
    }
  }

  private async startNext(): Promise<Instance> {
    const name = `${this.name}${++this.generation}`
    for (let attempt = 1; ; attempt++) {
      try {
        const instance = await startInstance(name, this.env, SCRIPT)
        // Every client request waits on the child's exit and messages.
        instance.child.setMaxListeners(0)
        this.lives.push({
          name,
          slot: this.name,
          pid: instance.child.pid!,
          readyAt: Date.now(),
          output: instance.output,
        })
        this.live = instance
        return instance
      } catch (error) {
        if (attempt >= START_ATTEMPTS) {
          throw error
        }
        await new Promise((resolve) => setTimeout(resolve, START_RETRY_MS))
      }
    }
  }
}
