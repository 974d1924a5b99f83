/*
 * Every table the engine reads and writes, as its migrations leave it:
 * Medusa's module test runner builds the schema from these models when it is
 * given no migrations, so a table or column missing here fails every stored
 * run there. The tables the service exposes are DML models (Medusa's shape,
 * with created_at, updated_at and deleted_at), and so is the log of finishes,
 * whose migration gave it those columns; the engine's other tables are
 * MikroORM entity schemas, because DML adds those three columns and an index
 * on deleted_at to every table, which these do not have and every timer write
 * would pay for. Medusa's module loader takes only the DML ones; the test
 * runner builds all of them. Counting triggers and the trigram index are the
 * migrations' alone (see workflow-execution.ts).
 */
export { WorkflowExecution } from "./workflow-execution"
export { WorkflowExecutionPurge } from "./workflow-execution-purge"
export { WorkflowExecutionBulkAction } from "./workflow-execution-bulk-action"
export { WorkflowEngineFinish } from "./workflow-engine-finish"
export { WorkflowExecutionCount } from "./workflow-execution-count"
export { WorkflowExecutionTimer } from "./workflow-execution-timer"
export { WorkflowEngineInstance } from "./workflow-engine-instance"
export { WorkflowEngineSchedule } from "./workflow-engine-schedule"
export { WorkflowEngineUpgradeTask } from "./workflow-engine-upgrade-task"
export { WorkflowEngineEvent } from "./workflow-engine-event"
