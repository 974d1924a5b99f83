/**
 * Transaction ids the engine has just generated for a run (`auto-<ulid>`):
 * nothing can be stored under them yet, so the storage skips reading the
 * table when the run starts. A caller's own transaction id is always read,
 * since it may name a run that exists.
 */
export class NewTransactions {
  protected readonly keys_ = new Set<string>()

  add(workflowId: string, transactionId: string): void {
    this.keys_.add(keyOf(workflowId, transactionId))
  }

  /** True once for a generated id; its first load then skips the table. */
  take(workflowId: string, transactionId: string): boolean {
    return this.keys_.delete(keyOf(workflowId, transactionId))
  }

  /** Forgets an id whose run never loaded it (not stored, or failed before). */
  forget(workflowId: string, transactionId: string): void {
    this.keys_.delete(keyOf(workflowId, transactionId))
  }
}

const keyOf = (workflowId: string, transactionId: string) => `${workflowId}\u0000${transactionId}`
