import { Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { FinishedNotice } from "../notifications/sql/notify-finished"
import { recentFinishes } from "../notifications/sql/recent-finishes"
import { loadLatestExecution } from "../storage/sql/load-latest-execution"
import { FINISHED_STATES } from "../transaction-states"
import { SubscriberRegistry } from "./subscribers"

// A finish logged before a read but committed after it is still found by the next read.
const COMMIT_MARGIN_MS = 30_000
// How long a finish delivered here is remembered, so that a look overlapping the last one delivers nothing twice.
const SEEN_FOR_MS = 10 * 60_000

/**
 * Tells this instance's subscribers of transactions that finished on another
 * instance: the notification names the transaction, the stored row (when it
 * is kept) gives its errors. After a gap in listening, and on every poll of
 * an instance that cannot listen, the finishes logged since the last look
 * are read (see notify-finished), so an `onFinish` missed meanwhile still
 * arrives, once.
 */
export class RemoteFinishes {
  private since?: Date
  // Finishes delivered here (heard or read), by id, with when (local clock).
  private readonly seen = new Map<string, number>()

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
    } catch (error) {
      this.logger.warn(
        `Workflow engine: a finish notification that is no JSON was ignored (${error}): ${payload.slice(0, 200)}`
      )
      return
    }
    // This instance told its own subscribers when it stored the finish.
    if (
      notice.instance_id === this.instanceId ||
      !this.subscribers.listensTo(notice.workflow_id, notice.transaction_id)
    ) {
      return
    }
    if (this.firstSight(notice.id)) {
      void this.deliver(notice.workflow_id, notice.transaction_id, notice.state)
    }
  }

  /**
   * Finishes logged since the last look, for the workflows someone here
   * subscribes to. `heardThrough` (database clock) is when the listener last
   * knew it heard everything; without either, the look goes a margin back.
   */
  async catchUp(heardThrough?: Date): Promise<void> {
    const workflowIds = this.subscribers.subscribedWorkflows()
    if (!workflowIds.length) {
      return
    }
    const heard =
      heardThrough && new Date(heardThrough.getTime() - COMMIT_MARGIN_MS)
    const since =
      this.since && heard
        ? new Date(Math.max(this.since.getTime(), heard.getTime()))
        : (this.since ?? heard)
    try {
      const { finishes, readAt } = await recentFinishes(this.db, {
        since,
        marginSeconds: COMMIT_MARGIN_MS / 1000,
        workflowIds,
        otherThan: this.instanceId,
      })
      this.since = new Date(readAt.getTime() - COMMIT_MARGIN_MS)
      for (const finish of finishes) {
        if (
          this.subscribers.listensTo(
            finish.workflow_id,
            finish.transaction_id
          ) &&
          this.firstSight(finish.id)
        ) {
          await this.deliver(
            finish.workflow_id,
            finish.transaction_id,
            finish.state
          )
        }
      }
    } catch (error) {
      this.logger.warn(
        `Workflow engine: could not read the finishes logged by other instances: ${error}`
      )
    }
  }

  private firstSight(id: string): boolean {
    const now = Date.now()
    for (const [seenId, at] of this.seen) {
      if (at >= now - SEEN_FOR_MS) {
        break
      }
      this.seen.delete(seenId)
    }
    if (this.seen.has(id)) {
      return false
    }
    this.seen.set(id, now)
    return true
  }

  private async deliver(
    workflowId: string,
    transactionId: string,
    noticedState?: string
  ): Promise<void> {
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
      this.logger.warn(
        `Workflow ${workflowId} (transaction ${transactionId}): could not read its finish: ${error}`
      )
    }
  }
}
