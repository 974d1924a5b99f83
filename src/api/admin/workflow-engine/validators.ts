import { z } from "@medusajs/framework/zod"
import { MAX_ERASE_TRANSACTIONS } from "../../../modules/workflow-engine/retention/purge-input"

/** Largest page of the purge audit trail one request may ask for. */
export const MAX_PURGES_PAGE = 100

export const AdminGetExecutionStorageParams = z.object({})

export const AdminGetExecutionRetentionParams = z.object({})

export const AdminPostPurge = z.object({
  /** Count what a pass would delete now, delete nothing. */
  dry_run: z.boolean().optional(),
  /** Stop after this many rows. */
  max_rows: z.number().int().min(1).optional(),
})
export type AdminPostPurgeType = z.infer<typeof AdminPostPurge>

export const AdminPostCancelExecution = z.object({})

export const AdminPostRetryStep = z.object({
  /** The step's name, as the workflow defines it (the `stepId` of its idempotency key). */
  step_id: z.string().min(1),
})
export type AdminPostRetryStepType = z.infer<typeof AdminPostRetryStep>

export const AdminPostErase = z.object({
  /** Every stored run of these transactions is deleted, whatever its state or retention. */
  transaction_ids: z
    .array(z.string().min(1))
    .min(1)
    .max(MAX_ERASE_TRANSACTIONS),
})
export type AdminPostEraseType = z.infer<typeof AdminPostErase>

export const AdminGetPurgesParams = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PURGES_PAGE).default(20),
  offset: z.coerce.number().int().min(0).default(0),
})
export type AdminGetPurgesParamsType = z.infer<typeof AdminGetPurgesParams>
