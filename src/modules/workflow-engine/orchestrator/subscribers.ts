import { Logger } from "@medusajs/framework/types"

/** What a subscriber of a workflow receives. */
export type WorkflowEvent = {
  eventType: string
  workflowId: string
  transactionId?: string
  step?: unknown
  response?: unknown
  result?: unknown
  errors?: unknown[]
  state?: string
}

export type Subscriber = ((event: WorkflowEvent) => unknown) & { _id?: string }

// Subscribers of every transaction of a workflow are kept under this key.
const ANY_TRANSACTION = Symbol("any transaction")
type TransactionKey = string | typeof ANY_TRANSACTION

/**
 * Subscribers of this process, per workflow and per transaction. A subscriber
 * given an id replaces an earlier one with the same id. Events are delivered
 * after the current tick so a slow subscriber never holds up a workflow.
 */
export class SubscriberRegistry {
  private readonly byWorkflow = new Map<
    string,
    Map<TransactionKey, Subscriber[]>
  >()

  constructor(private readonly logger: Logger) {}

  add(
    workflowId: string,
    transactionId: string | undefined,
    subscriber: Subscriber,
    subscriberId?: string
  ): void {
    if (subscriberId) {
      subscriber._id = subscriberId
    }
    const key = transactionId ?? ANY_TRANSACTION
    const ofWorkflow =
      this.byWorkflow.get(workflowId) ?? new Map<TransactionKey, Subscriber[]>()
    const kept = (ofWorkflow.get(key) ?? []).filter(
      (existing) =>
        existing !== subscriber &&
        !(subscriberId && existing._id === subscriberId)
    )
    ofWorkflow.set(key, [...kept, subscriber])
    this.byWorkflow.set(workflowId, ofWorkflow)
  }

  remove(
    workflowId: string,
    transactionId: string | undefined,
    subscriberOrId: string | Function
  ): void {
    const ofWorkflow = this.byWorkflow.get(workflowId)
    if (!ofWorkflow) {
      return
    }
    const key = transactionId ?? ANY_TRANSACTION
    const kept = (ofWorkflow.get(key) ?? []).filter((subscriber) =>
      typeof subscriberOrId === "string"
        ? subscriber._id !== subscriberOrId
        : subscriber !== subscriberOrId
    )
    if (kept.length) {
      ofWorkflow.set(key, kept)
    } else {
      ofWorkflow.delete(key)
    }
  }

  /** Whether anyone here listens to that transaction (or to every transaction of its workflow). */
  listensTo(workflowId: string, transactionId: string): boolean {
    const ofWorkflow = this.byWorkflow.get(workflowId)
    return (
      !!ofWorkflow &&
      (ofWorkflow.has(ANY_TRANSACTION) || ofWorkflow.has(transactionId))
    )
  }

  /** The workflows someone here subscribes to, to one transaction or to all. */
  subscribedWorkflows(): string[] {
    return [...this.byWorkflow.entries()]
      .filter(([, ofWorkflow]) => ofWorkflow.size > 0)
      .map(([workflowId]) => workflowId)
  }

  notify(event: WorkflowEvent): void {
    setImmediate(() => void this.deliver(event))
  }

  private async deliver(event: WorkflowEvent): Promise<void> {
    const ofWorkflow = this.byWorkflow.get(event.workflowId)
    if (!ofWorkflow) {
      return
    }
    const targets = [...(ofWorkflow.get(ANY_TRANSACTION) ?? [])]
    if (event.transactionId) {
      targets.push(...(ofWorkflow.get(event.transactionId) ?? []))
      // Nothing follows a transaction's finish: its subscribers are done.
      if (event.eventType === "onFinish") {
        ofWorkflow.delete(event.transactionId)
      }
    }
    await Promise.all(
      targets.map(async (subscriber) => {
        try {
          await subscriber(event)
        } catch (error) {
          this.logger.error(
            `Subscriber of workflow ${event.workflowId} (transaction ${event.transactionId}) failed on ${event.eventType}: ${error}`
          )
        }
      })
    )
  }
}
