import { TransactionFlow } from "@medusajs/framework/orchestration"
import { workflowSteps } from "../stored-flow"
import { FINISHED_STATES, STEP_FINISHED_STATES } from "../transaction-states"

// Runs whose end this process never sees (continued elsewhere) must not grow the map without bound.
const MAX_TRACKED_RUNS = 10_000

/**
 * Every checkpoint of a stored run passes through the storage, written or
 * not, but each is a fresh copy of the live flow, so a stamp made on one copy
 * is not on the next. The ends seen so far are kept here per run, until the
 * run finishes, and put on every checkpoint: the first checkpoint that shows a
 * step's invoke ended fixes its `endedAt`, and it reaches the table with the
 * run's next stored checkpoint, at no statement of its own. Runs started
 * through the module's `run` and through the workflow's own are seen alike.
 */
export class StepEnds {
  private readonly byRun = new Map<string, Map<string, number>>()

  stamp(flow: TransactionFlow, now = Date.now()): void {
    const key = `${flow.modelId}:${flow.transactionId}:${flow.runId}`
    const ends = this.byRun.get(key) ?? new Map<string, number>()
    for (const step of workflowSteps(flow)) {
      const known = step.endedAt ?? ends.get(step.id)
      if (known !== undefined) {
        step.endedAt = known
        ends.set(step.id, known)
      } else if (STEP_FINISHED_STATES.has(step.invoke?.state)) {
        step.endedAt = now
        ends.set(step.id, now)
      }
    }
    if (FINISHED_STATES.has(flow.state)) {
      this.byRun.delete(key)
      return
    }
    if (ends.size && !this.byRun.has(key)) {
      if (this.byRun.size >= MAX_TRACKED_RUNS) {
        this.byRun.delete(this.byRun.keys().next().value as string)
      }
      this.byRun.set(key, ends)
    }
  }
}
