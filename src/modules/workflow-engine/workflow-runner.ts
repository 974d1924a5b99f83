import { IdempotencyKeyParts } from "@medusajs/framework/types"

type StepCall = {
  idempotencyKey: IdempotencyKeyParts
  options?: Record<string, any>
}

/**
 * What the background parts (timers, schedules, recovery) need of the engine:
 * run a workflow by id, which continues a stored transaction given its id,
 * and answer or retry one of its steps. The orchestrator implements it; the
 * parts below it only see this. The module's public service fits it too, so a
 * test can drive a part through the service alone.
 */
export interface WorkflowRunner {
  run(workflowId: string, options: Record<string, any>): Promise<unknown>
  retryStep(call: StepCall): Promise<unknown>
  setStepFailure(call: StepCall & { stepResponse: unknown }): Promise<unknown>
}
