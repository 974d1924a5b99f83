import { describe, invalidField } from "../invalid-field"
import { EXECUTION_FILTERS } from "./execution-fields"
import { checkText } from "./filter-check"

/** The filter key a caller writes; the column it reads is `resource_ids`. */
export const RESOURCE_FILTER = "resource_id"

/**
 * `resource_id` (top level only, beside `q`): the runs whose input named
 * the given commerce id, or any of a list of them (an empty list picks
 * none). Read through the GIN index on `resource_ids`. Undefined when the
 * caller gave none; anything but a string or an array of strings is refused
 * with the field named.
 */
export function resourceFilter(
  filters: Record<string, unknown>
): Record<string, unknown> | undefined {
  const value = filters[RESOURCE_FILTER]
  if (value === undefined) {
    return undefined
  }
  const ids = Array.isArray(value)
    ? value.map((id, i) =>
        checkText(EXECUTION_FILTERS.subject, `${RESOURCE_FILTER}[${i}]`, id)
      )
    : typeof value === "string"
      ? [checkText(EXECUTION_FILTERS.subject, RESOURCE_FILTER, value)]
      : undefined
  if (!ids) {
    throw invalidField(
      EXECUTION_FILTERS.subject,
      RESOURCE_FILTER,
      `must be a string or an array of strings, got ${describe(value)}`
    )
  }
  return { resource_ids: { $overlap: [...new Set(ids)] } }
}
