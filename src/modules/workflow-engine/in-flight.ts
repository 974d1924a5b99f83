/**
 * Work this process started and does not await where it starts it (a timer
 * fired, a tick run, a storage call from a chain nobody awaits), held until
 * it settles so that a stop can wait for it. What the work throws is its
 * owner's to report: a rejection is kept from going unhandled here, not
 * reported.
 */
export class InFlight {
  private readonly work = new Set<Promise<unknown>>()

  /** How much work is in flight now. */
  get size(): number {
    return this.work.size
  }

  /** Holds `work` until it settles, and returns it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.work.add(work)
    const forget = () => void this.work.delete(work)
    work.then(forget, forget)
    return work
  }

  /** Resolves once the work in flight now has settled, however it did. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.work])
  }
}
