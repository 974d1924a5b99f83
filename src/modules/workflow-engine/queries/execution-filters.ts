import { FilterableWorkflowExecutionProps } from "@medusajs/framework/types"
import { describe, invalidField } from "../invalid-field"
import { EXECUTION_FILTERS } from "./execution-fields"
import { ExecutionSearch, searchFilter, searchText } from "./execution-search"
import { checkFilters, isRecord } from "./filter-check"
import { RESOURCE_FILTER, resourceFilter } from "./resource-filter"

/**
 * Checks a caller's filters and combines them with `q` (see
 * execution-search) and `resource_id` (see resource-filter). Anything unknown or of the wrong type is refused with
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
    [RESOURCE_FILTER]: _resource,
    ...rest
  } = filters as Record<string, unknown>
  const checked = {
    ...checkFilters(EXECUTION_FILTERS, rest),
    ...resources,
  }

  if (q === undefined) {
    return checked
  }
  const matched = searchFilter(q, search)
  return Object.keys(checked).length ? { $and: [checked, matched] } : matched
}
