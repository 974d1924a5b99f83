import {
  FilterableWorkflowExecutionProps,
  FindConfig,
  WorkflowExecutionDTO,
} from "@medusajs/framework/types"
import { isObject } from "@medusajs/framework/utils"
import { searchText } from "./execution-search"

/** Which counters add up to a list's total: null for "any" workflow or state. */
export type CounterSelection = {
  workflowIds: string[] | null
  states: string[] | null
}

/**
 * Whether the counters can give the total of a list, and which of them: they
 * count live executions by workflow and state, so they answer the admin's
 * list, with or without a workflow or state filter (a value, a list or
 * `$in`/`$eq`). Any other filter, or asking for soft-deleted rows, is counted
 * by the query itself. `q` has a plan of its own (see count-search).
 */
export function counterSelection(
  filters: FilterableWorkflowExecutionProps = {},
  config: FindConfig<WorkflowExecutionDTO> = {}
): CounterSelection | null {
  if (!isObject(filters) || (config as { withDeleted?: boolean }).withDeleted) {
    return null
  }
  const selection: CounterSelection = { workflowIds: null, states: null }
  for (const [field, value] of Object.entries(filters)) {
    // An empty q filters nothing (searchText says which q are empty).
    if (
      value === undefined ||
      (field === "q" && searchText(filters) === undefined)
    ) {
      continue
    }
    const values = valuesOf(value)
    if (!values) {
      return null
    }
    if (field === "workflow_id") {
      selection.workflowIds = values
    } else if (field === "state") {
      selection.states = values
    } else {
      return null
    }
  }
  return selection
}

function valuesOf(value: unknown): string[] | null {
  const strings = (list: unknown[]) =>
    list.every((v) => typeof v === "string") ? (list as string[]) : null
  if (typeof value === "string") {
    return [value]
  }
  if (Array.isArray(value)) {
    return strings(value)
  }
  if (isObject(value)) {
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length !== 1) {
      return null
    }
    const [operator, operand] = entries[0]
    if (operator === "$eq" && typeof operand === "string") {
      return [operand]
    }
    if (operator === "$in" && Array.isArray(operand)) {
      return strings(operand)
    }
  }
  return null
}
