import { FilterableWorkflowExecutionProps } from "@medusajs/framework/types"
import { describe, invalidField } from "../invalid-field"
import { EXECUTION_FILTERS } from "./execution-fields"
import { ExecutionSearch, searchFilter, searchText } from "./execution-search"
import { checkFilters, isRecord } from "./filter-check"
import { RESOURCE_FILTER, resourceFilter } from "./resource-filter"

/**
 * Checks a caller's filters and combines them with `q` (see
 * execution-search), `resource_id` (see resource-filter) and `stuck`. Anything unknown or of the wrong type is refused with
 * the field named, before it gets near SQL.
 */
export function prepareFilters(
  filters: FilterableWorkflowExecutionProps = {},
  search?: ExecutionSearch
): Record<string, unknown> {
  if (!isRecord(filters)) {
    throw invalidField(
      EXECUTION_FILTERS.subject,
      "filters",
      `must be an object, got ${describe(filters)}`
    )
  }
  const q = searchText(filters)
  const resources = resourceFilter(filters as Record<string, unknown>)
  const {
    q: _q,
    stuck,
    [RESOURCE_FILTER]: _resource,
    ...rest
  } = filters as Record<string, unknown>
  const checked = withStuck(
    { ...checkFilters(EXECUTION_FILTERS, rest), ...resources },
    stuck
  )

  if (q === undefined) {
    return checked
  }
  const matched = searchFilter(q, search)
  return Object.keys(checked).length ? { $and: [checked, matched] } : matched
}

/**
 * `stuck: true` lists the runs the stuck scan reported and that have not
 * moved since (events/stuck-scan), through their index; `false` the others.
 */
function withStuck(
  checked: Record<string, unknown>,
  stuck: unknown
): Record<string, unknown> {
  if (stuck === undefined) {
    return checked
  }
  if (typeof stuck !== "boolean") {
    throw invalidField(
      EXECUTION_FILTERS.subject,
      "stuck",
      `must be true or false, got ${describe(stuck)}`
    )
  }
  const filter = { stuck_at: stuck ? { $ne: null } : null }
  return Object.keys(checked).length ? { $and: [checked, filter] } : filter
}
