/**
 * Steps that wait until the test lets them go: how a test makes a step end at
 * a moment of its choosing, such as while the database is away. In an
 * instance's process the test releases them through instance-commands; the
 * module suites' steps (modules/__fixtures__/parity-workflows) run in the
 * test's own process, which releases them directly.
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
