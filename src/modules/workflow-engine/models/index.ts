export { WorkflowExecution } from "./workflow-execution"
