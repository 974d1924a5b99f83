import { FindConfig } from "@medusajs/framework/types"
import { describe, invalidField } from "../invalid-field"
import { WorkflowExecutionPurge } from "../models/workflow-execution-purge"
import { checkFilters, filterSchemaOf, isRecord } from "./filter-check"
import { checkListConfig } from "./list-config"

const PURGE_FILTERS = filterSchemaOf(
  "Workflow execution purge",
  WorkflowExecutionPurge
)

/** Checks the filters and config of a list of purge audit entries; returns the filters to query with. */
export function preparePurgeList<T>(
  filters: unknown = {},
  config?: FindConfig<T>
): { filters: Record<string, unknown>; config: FindConfig<T> } {
  if (!isRecord(filters)) {
    throw invalidField(
      PURGE_FILTERS.subject,
      "filters",
      `must be an object, got ${describe(filters)}`
    )
  }
  return {
    filters: checkFilters(PURGE_FILTERS, filters as Record<string, unknown>),
    config: checkListConfig(PURGE_FILTERS, config),
  }
}
