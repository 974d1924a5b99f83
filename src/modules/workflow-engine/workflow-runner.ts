/**
 * What the background parts (timers, schedules, recovery) need of the engine:
 * run a workflow by id, which continues a stored transaction given its id.
 * The orchestrator implements it; the parts below it only see this.
 */
export interface WorkflowRunner {
  run(workflowId: string, options: Record<string, any>): Promise<unknown>
}
