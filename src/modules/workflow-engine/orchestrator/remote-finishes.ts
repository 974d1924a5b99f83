import { Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { FinishedNotice } from "../notifications/sql/notify-finished"
import { loadLatestExecution } from "../storage/sql/load-latest-execution"
import { FINISHED_STATES } from "../transaction-states"
import { SubscriberRegistry } from "./subscribers"

/**
 * Tells this instance's subscribers of transactions that finished on another
 * instance: the notification names the transaction, the stored row (when it
 * is kept) gives its errors. After a gap in listening, every transaction a
 * subscriber here waits on is looked up, so an `onFinish` missed meanwhile
 * still arrives.
 */
export class RemoteFinishes {
  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    private readonly instanceId: string,
    private readonly subscribers: SubscriberRegistry
  ) {}

  handle(payload: string): void {
    let notice: FinishedNotice
    try {
      notice = JSON.parse(payload)
    } catch {
      return
    }
    // This instance told its own subscribers when it stored the finish.
    if (notice.instance_id === this.instanceId || !this.subscribers.listensTo(notice.workflow_id, notice.transaction_id)) {
      return
    }
    void this.deliver(notice.workflow_id, notice.transaction_id, notice.state)
  }

  /** After a reconnect: finishes that happened while nothing listened. */
  async catchUp(): Promise<void> {
    for (const { workflowId, transactionId } of this.subscribers.subscribedTransactions()) {
      await this.deliver(workflowId, transactionId)
    }
  }

  private async deliver(workflowId: string, transactionId: string, noticedState?: string): Promise<void> {
    try {
      const row = await loadLatestExecution(this.db, workflowId, transactionId)
      const state = row?.state ?? noticedState
      if (!state || !FINISHED_STATES.has(state)) {
        return
      }
      this.subscribers.notify({
        eventType: "onFinish",
        workflowId,
        transactionId,
        state,
        errors: row?.context?.errors ?? [],
      })
    } catch (error) {
      this.logger.warn(`Workflow ${workflowId} (transaction ${transactionId}): could not read its finish: ${error}`)
    }
  }
}
