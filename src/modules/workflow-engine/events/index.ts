/*
 * What a store's code imports from the engine's events:
 * `import { WorkflowExecutionEvents } from "medusa-workflow-engine-postgres/modules/workflow-engine/events"`.
 */
export {
  WorkflowExecutionEvents,
  type WorkflowExecutionEventName,
} from "./event-names"
export { type WorkflowExecutionEventData } from "./event-payload"
