import { WorkflowExecution } from "../models/workflow-execution"
import { filterSchemaOf } from "./filter-check"

/**
 * What a caller may filter executions by (README "Filters"), besides the
 * top-level `q`; owner_instance_id and owner_epoch (recovery's and fencing's)
 * are read, never filtered by.
 */
export const EXECUTION_FILTERS = filterSchemaOf(
  "Workflow execution",
  WorkflowExecution,
  {
    unfiltered: ["owner_instance_id", "owner_epoch"],
  }
)

/** The model's columns, the only ones a caller may order or select by. */
export const COLUMNS = EXECUTION_FILTERS.columns
