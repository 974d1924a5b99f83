import {
  FilterableWorkflowExecutionProps,
  FindConfig,
  WorkflowExecutionDTO,
} from "@medusajs/framework/types"

const IDENTIFYING = ["id", "transaction_id", "run_id", "resource_id"] as const

/** Filters that name executions by id, transaction, run or commerce object: their lists are short. */
export function isSelective(
  filters: FilterableWorkflowExecutionProps
): boolean {
  return IDENTIFYING.some(
    (field) => (filters as Record<string, unknown>)[field] !== undefined
  )
}

/**
 * The total of a list, known from one page: a page with fewer rows than asked
 * for is the last one, so the total is what it skipped plus what it holds.
 * Null when the page is full, or empty after a skip (the total may be smaller
 * than the skip).
 */
export function totalOfPage(
  rows: number,
  config: FindConfig<WorkflowExecutionDTO>
): number | null {
  const skip = config.skip ?? 0
  const take = config.take
  const isLast = take === undefined || take === null || rows < take
  if (!isLast || (rows === 0 && skip > 0)) {
    return null
  }
  return skip + rows
}
