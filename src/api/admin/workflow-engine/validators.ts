import { TransactionState } from "@medusajs/framework/utils"
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

/** Largest page of executions one request may ask for. */
export const MAX_EXECUTIONS_PAGE = 100

const oneOrMany = <T extends z.ZodTypeAny>(value: T) =>
  z.union([value, z.array(value)])

const dateRange = z
  .object({
    $gt: z.string().optional(),
    $gte: z.string().optional(),
    $lt: z.string().optional(),
    $lte: z.string().optional(),
  })
  .strict()

// A query string says "true" or "false"; z.coerce.boolean would take "false" for true.
const queryBoolean = z
  .enum(["true", "false"])
  .transform((value) => value === "true")

/**
 * The list of Settings → Workflows (its filters: workflow, transaction,
 * state, created range, q) plus `resource_id`, newest first by default;
 * values are checked again by the module, whose errors are 400s too.
 */
export const AdminGetExecutionsParams = z
  .object({
    /** Runs whose input named this commerce id (order_…, cus_…), or any of these. */
    resource_id: oneOrMany(z.string()).optional(),
    /** Runs the engine reported stuck and that have not moved since (`true`), or the others (`false`). */
    stuck: queryBoolean.optional(),
    workflow_id: oneOrMany(z.string()).optional(),
    transaction_id: oneOrMany(z.string()).optional(),
    state: oneOrMany(z.nativeEnum(TransactionState)).optional(),
    created_at: dateRange.optional(),
    q: z.string().optional(),
    order: z
      .enum(["created_at", "-created_at", "updated_at", "-updated_at"])
      .default("-created_at"),
    limit: z.coerce.number().int().min(1).max(MAX_EXECUTIONS_PAGE).default(20),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict()
export type AdminGetExecutionsParamsType = z.infer<
  typeof AdminGetExecutionsParams
>
/**
 * The list's filters a bulk action takes; the module then checks them by the
 * list's own rules (queries/execution-filters.ts), so each value is refused
 * there with its field named as the list would.
 */
export const AdminBulkFilters = z
  .object({
    workflow_id: oneOrMany(z.string().min(1)).optional(),
    transaction_id: oneOrMany(z.string().min(1)).optional(),
    state: oneOrMany(z.string().min(1)).optional(),
    created_at: dateRange.optional(),
    /** The commerce objects a run is about (order_…, cart_…); the list's resource_id filter. */
    resource_id: oneOrMany(z.string().min(1)).optional(),
    /** Runs the engine reported stuck and that have not moved since (true), or the others (false). */
    stuck: z.boolean().optional(),
    q: z.string().optional(),
  })
  .strict()

export const AdminPostBulkAction = z.object({
  action: z.enum(["retry", "cancel"]),
  filters: AdminBulkFilters.default({}),
  /** Say what it would do; act on nothing. */
  dry_run: z.boolean().optional(),
})
export type AdminPostBulkActionType = z.infer<typeof AdminPostBulkAction>

export const AdminGetBulkActionsParams = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PURGES_PAGE).default(20),
  offset: z.coerce.number().int().min(0).default(0),
})
export type AdminGetBulkActionsParamsType = z.infer<
  typeof AdminGetBulkActionsParams
>

export const AdminPostKeepExecution = z.object({
  /** Why it must stay (shown on the execution's page). */
  reason: z.string().trim().min(1).max(1000),
})
export type AdminPostKeepExecutionType = z.infer<typeof AdminPostKeepExecution>
