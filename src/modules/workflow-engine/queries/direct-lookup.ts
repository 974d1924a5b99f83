import {
  Context,
  FindConfig,
  WorkflowExecutionDTO,
} from "@medusajs/framework/types"
import { isObject } from "@medusajs/framework/utils"

/** A list call simple enough to be one plain statement; see directLookupOf. */
export type DirectLookup = {
  where: { column: string; values: string[] }[]
  order: { column: string; direction: "ASC" | "DESC" }[]
  /** the selected columns; undefined for all the model's */
  columns?: string[]
  take?: number
  skip?: number
}

const EQUALITY_FIELDS = new Set([
  "id",
  "workflow_id",
  "transaction_id",
  "run_id",
  "state",
])
const PRIMARY_KEY = ["workflow_id", "transaction_id", "run_id"]
const CONFIG_KEYS = new Set(["take", "skip", "order", "select"])

/**
 * The lookups by id, workflow, transaction, run or state that routes make
 * (equality or `$in`, with paging, order and select), as one statement
 * straight through the pool, instead of the ORM's query building and
 * hydration of entities that are only turned back into plain objects. It
 * answers what the generated list method answers: the same rows, fields and
 * types, ordered by the primary key unless told otherwise (as Medusa's
 * services order by default); the parity test holds the two together.
 * Anything else (operators, `$and`/`$or`, soft-deleted rows, a caller's
 * transaction) goes through the ORM as before.
 */
export function directLookupOf(
  filters: Record<string, unknown>,
  config: FindConfig<WorkflowExecutionDTO> = {},
  sharedContext: Context = {}
): DirectLookup | undefined {
  if (
    sharedContext.transactionManager ||
    Object.keys(config).some((key) => !CONFIG_KEYS.has(key))
  ) {
    return
  }
  const where: DirectLookup["where"] = []
  for (const [column, value] of Object.entries(filters)) {
    const values = equalityValues(value)
    if (!EQUALITY_FIELDS.has(column) || !values) {
      return
    }
    where.push({ column, values: [...new Set(values)] })
  }
  const select = config.select as string[] | undefined
  if (select?.some((field) => field.includes("."))) {
    return
  }
  const order =
    config.order && Object.keys(config.order).length
      ? Object.entries(config.order)
      : PRIMARY_KEY.map((column) => [column, "ASC"])
  return {
    where,
    order: order.map(([column, direction]) => ({
      column,
      direction: String(direction).toUpperCase() as "ASC" | "DESC",
    })),
    // The ORM always loads the primary key and the id with a selection.
    columns: select?.length
      ? [...new Set(["id", ...PRIMARY_KEY, ...select])]
      : undefined,
    take: config.take ?? undefined,
    skip: config.skip ?? undefined,
  }
}

function equalityValues(value: unknown): string[] | undefined {
  if (typeof value === "string") {
    return [value]
  }
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    return value
  }
  if (isObject(value)) {
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length === 1 && ["$eq", "$in"].includes(entries[0][0])) {
      return equalityValues(entries[0][1])
    }
  }
  return
}
