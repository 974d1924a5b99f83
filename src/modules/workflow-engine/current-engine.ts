import { Supervisor } from "./supervisor"

let current: Supervisor | undefined

/**
 * Makes `supervisor`'s engine the one of this process, whose storage Medusa's
 * orchestrator uses: DistributedTransaction and WorkflowScheduler keep one
 * storage for the whole process, the last one installed. A module loaded
 * again in one process (Medusa's module test runner loads it for every test,
 * and never calls its shutdown hooks) stops the previous engine's background
 * work here, which would otherwise go on polling, listening and firing
 * timers beside the new one. An engine whose pool is closed without a
 * shutdown (the runner closes its connection after the last test) stops as
 * the pool closes: `onPoolClosing` registers what runs then.
 */
export async function becomeProcessEngine(
  supervisor: Supervisor,
  onPoolClosing: (handler: () => void) => void
): Promise<void> {
  const previous = current
  current = supervisor
  onPoolClosing(() => void retire(supervisor, { poolClosed: true }))
  if (previous) {
    await retire(previous, { poolClosed: false })
  }
}

async function retire(
  supervisor: Supervisor,
  options: { poolClosed: boolean }
): Promise<void> {
  if (current === supervisor) {
    current = undefined
  }
  await supervisor.stop(options)
}
