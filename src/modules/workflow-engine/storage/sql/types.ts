import { RunKey } from "../../db"

/** One row of `workflow_execution` as the storage writes it. */
export type ExecutionRow = RunKey & {
  execution: unknown
  context: unknown
  state: string
  retention_time: number | null
  /** Seconds from now until a finished run may be purged; null while in flight or kept forever. */
  expires_in_seconds: number | null
  /** The instance that wrote this checkpoint while running the run; recovery looks for dead ones. */
  owner_instance_id: string
  /** The epoch the writing execution loaded the run at: the write applies only while the row still has it (see fencing.ts). */
  owner_epoch: number
}

/** A run's first row: what only the insert writes besides. */
export type NewExecutionRow = ExecutionRow & {
  /** A new row's returned async handlers (storage/awaited-steps): none yet, or null when they are not noted. */
  awaited_steps: string[] | null
  /** The commerce ids in the run's input (references/resource-ids); the input never changes, so only the insert writes them. */
  resource_ids: string[]
}

/** Who a run belongs to, as the fence reads it (see fencing.ts). */
export type StoredOwner = {
  owner_epoch: number
  owner_instance_id: string | null
}

export type StoredCheckpointRow = {
  execution: any
  context: any
  state: string
  owner_epoch: number
  owner_instance_id: string | null
  /** The row's version, its `xmin` as text (see seen-versions.ts); read where the run is loaded or locked. */
  version?: string
}
