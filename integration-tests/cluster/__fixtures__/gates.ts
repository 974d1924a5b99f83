/**
 * Steps that wait, in their own process, until the test lets them go (see
 * instance-commands): how a test makes a step end at a moment of its choosing,
 * such as while the database is away.
 */
const waiting = new Map<string, () => void>()
const released = new Set<string>()

export function gate(key: string): Promise<void> {
  if (released.has(key)) {
    return Promise.resolve()
  }
  return new Promise((resolve) => waiting.set(key, resolve))
}

export function release(key: string): void {
  released.add(key)
  waiting.get(key)?.()
  waiting.delete(key)
}
