import { AsyncLocalStorage } from "async_hooks"
import {
  SkipExecutionError,
  TransactionFlow,
} from "@medusajs/framework/orchestration"
import { MedusaError } from "@medusajs/framework/utils"
import { StoredOwner } from "./sql/types"

/**
 * Fencing of runs taken over. A run's row carries `owner_epoch`, which
 * recovery bumps when it takes the run from an instance judged dead
 * (recovery/sql/adopt-run.ts). An execution knows the epoch of the row it
 * loaded (0 for a run it started itself), carried on its live flow, and
 * every write it makes for the run (its checkpoints, its timers) applies only
 * while the row still has that epoch: an instance paused past its lease
 * cannot write over the run's new owner. Its refused writes are logged, and
 * the call that made them (a run, an answer, a timer) is told.
 */

/** What an execution knows of its run's ownership: the epoch it loaded, and when it loaded it. */
export type Ownership = { epoch: number; since: number }

/** This instance's lease, as far as the fence needs it (instances/instance-lease). */
export type OwnLease = {
  /** whether the lease may have run out at some moment since `since` (epoch ms): the others may have judged this instance dead */
  lapsedSince(since: number): boolean
  /** renews the lease now if it may have run out */
  confirm(): Promise<void>
}

// On the live flow, which Medusa's orchestrator copies into every checkpoint it hands the storage.
const OWNERSHIP = "ownership"
type FlowWithOwnership = TransactionFlow & { [OWNERSHIP]?: Ownership }

/** Marks a flow the storage loaded with the epoch its row had. */
export function carryOwnership(
  flow: TransactionFlow,
  epoch: number,
  now = Date.now()
): void {
  ;(flow as FlowWithOwnership)[OWNERSHIP] = { epoch, since: now }
}

/**
 * The ownership an execution holds, from its live flow or a checkpoint's copy:
 * a flow the storage never loaded is a run this execution started, at epoch
 * 0, since its start.
 */
export function ownershipOf(flow: TransactionFlow): Ownership {
  return (
    (flow as FlowWithOwnership)[OWNERSHIP] ?? {
      epoch: 0,
      since: flow.startedAt ?? Date.now(),
    }
  )
}

/** Takes the ownership off a checkpoint's copy of the flow before it is stored: the row's column is the truth. */
export function takeOwnership(flow: TransactionFlow): Ownership {
  const ownership = ownershipOf(flow)
  delete (flow as FlowWithOwnership)[OWNERSHIP]
  return ownership
}

/** The warning a refused write logs, and the error its call gets. */
export function fencedOutMessage(
  run: { workflowId: string; transactionId: string },
  instanceId: string,
  what: string,
  epoch: number,
  stored: StoredOwner | undefined
): string {
  const now = stored
    ? `it is at epoch ${stored.owner_epoch} now${stored.owner_instance_id ? `, owned by ${stored.owner_instance_id}` : ""}`
    : "it moved on to another run"
  return (
    `Workflow ${run.workflowId} (transaction ${run.transactionId}): ${what} by instance ${instanceId} was refused: ` +
    `the run was taken over since this execution loaded it at epoch ${epoch} (${now}): this instance was judged dead ` +
    `(paused or cut off longer than its lease), or a recovery took the run over while the call was under way. The run ` +
    `goes on where it was taken over; load it again to act on it.`
  )
}

/** What a refused checkpoint throws: Medusa's orchestrator stops the execution quietly there. */
export function fencedOut(message: string): SkipExecutionError {
  noteRefusal(message)
  return new SkipExecutionError(message)
}

type Watch = { refusal?: string }
const watches = new AsyncLocalStorage<Watch>()

/** Records a refused write for the call it belongs to (see refusingFencedOut). */
export function noteRefusal(message: string): void {
  const watch = watches.getStore()
  if (watch && !watch.refusal) {
    watch.refusal = message
  }
}

/**
 * Runs a call into the orchestrator (a run, an answer, a retry) and, when a
 * write of it was refused by the fence, throws a CONFLICT error instead of
 * returning: the orchestrator stops quietly at the refused write, and what it
 * would return is this instance's view of a run that another instance owns.
 */
export async function refusingFencedOut<T>(work: () => Promise<T>): Promise<T> {
  const watch: Watch = {}
  const result = await watches.run(watch, work)
  if (watch.refusal) {
    throw new MedusaError(MedusaError.Types.CONFLICT, watch.refusal)
  }
  return result
}
