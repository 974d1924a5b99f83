import { Supervisor } from "./supervisor"

/** How often the engine of the process looks whether its pool was closed without a shutdown. */
const POOL_CHECK_INTERVAL_MS = 1000

type Engine = { supervisor: Supervisor; poolClosed: () => boolean; poolCheck: NodeJS.Timeout }

let current: Engine | undefined

/**
 * Makes `supervisor`'s engine the one of this process, whose storage Medusa's
 * orchestrator uses: DistributedTransaction and WorkflowScheduler keep one
 * storage for the whole process, the last one installed. A module loaded
 * again in one process (Medusa's module test runner loads it for every test,
 * and never calls its shutdown hooks) stops the previous engine's background
 * work here, which would otherwise go on polling, listening and firing
 * timers beside the new one. An engine whose pool is closed without a
 * shutdown (the runner closes its connection after the last test) stops too.
 */
export async function becomeProcessEngine(supervisor: Supervisor, poolClosed: () => boolean): Promise<void> {
  const previous = current
  const engine: Engine = {
    supervisor,
    poolClosed,
    poolCheck: setInterval(() => {
      if (poolClosed()) {
        void retire(engine)
      }
    }, POOL_CHECK_INTERVAL_MS),
  }
  engine.poolCheck.unref()
  current = engine
  if (previous) {
    await retire(previous)
  }
}

async function retire(engine: Engine): Promise<void> {
  clearInterval(engine.poolCheck)
  if (current === engine) {
    current = undefined
  }
  await engine.supervisor.stop({ poolClosed: engine.poolClosed() })
}
