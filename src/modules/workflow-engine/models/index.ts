export { WorkflowExecution } from "./workflow-execution"
export { WorkflowExecutionPurge } from "./workflow-execution-purge"
export { WorkflowEngineFinish } from "./workflow-engine-finish"
