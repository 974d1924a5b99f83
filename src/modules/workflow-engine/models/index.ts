export { WorkflowExecution } from "./workflow-execution"
export { WorkflowExecutionPurge } from "./workflow-execution-purge"
