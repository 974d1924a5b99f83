/**
 * Deferred work of the engine: retry intervals, step and transaction timeouts,
 * async wake-ups. Keyed so that scheduling a key again replaces it and a key
 * can be cancelled. This in-process queue serves one instance; a durable,
 * multi-instance queue in Postgres implements the same interface.
 */
export interface TimerQueue {
  schedule(key: string, delayMs: number, task: () => Promise<void>): void
  cancel(key: string): void
  stop(): void
}

export class InProcessTimerQueue implements TimerQueue {
  private readonly timers = new Map<string, NodeJS.Timeout>()

  constructor(private readonly onError: (key: string, error: unknown) => void) {}

  schedule(key: string, delayMs: number, task: () => Promise<void>): void {
    this.cancel(key)
    const timer = setTimeout(() => {
      this.timers.delete(key)
      task().catch((error) => this.onError(key, error))
    }, Math.max(0, delayMs))
    this.timers.set(key, timer)
  }

  cancel(key: string): void {
    const timer = this.timers.get(key)
    if (timer) {
      clearTimeout(timer)
      this.timers.delete(key)
    }
  }

  stop(): void {
    for (const timer of this.timers.values()) {
      clearTimeout(timer)
    }
    this.timers.clear()
  }
}
