import {
  AuthenticatedMedusaRequest,
  MedusaResponse,
} from "@medusajs/framework/http"
import { MedusaError, TransactionHandlerType } from "@medusajs/framework/utils"
import { FINISHED_STATES } from "../../../../../../../modules/workflow-engine/transaction-states"
import { postgresEngine } from "../../../../engine"
import { retryObstacle, StoredStepForRetry } from "../../../../step-retry"
import { AdminPostRetryStepType } from "../../../../validators"

type StoredStep = StoredStepForRetry & { definition?: { action?: string } }

/**
 * Retries a step of the run in flight of this `wf_exec_…` id through the
 * engine's retryStep: Medusa invokes the step again (a step that waits for an
 * answer, or still runs) on the engine's next timer, at once, and the run
 * goes on from its answer. Medusa's admin has no route for it. What Medusa
 * refuses (a step that is not waiting) comes back as its own NOT_ALLOWED;
 * what it would mishandle (see step-retry) is refused here first.
 */
export async function POST(
  req: AuthenticatedMedusaRequest<AdminPostRetryStepType>,
  res: MedusaResponse
) {
  const engine = postgresEngine(req.scope)
  const execution = await engine.retrieveWorkflowExecution(req.params.id)
  if (FINISHED_STATES.has(execution.state)) {
    throw new MedusaError(
      MedusaError.Types.NOT_ALLOWED,
      `Only a step of an execution in flight can be retried; ${execution.id} is ${execution.state}`
    )
  }
  const stepId = req.validatedBody.step_id
  const steps = Object.values(
    (execution.execution?.steps ?? {}) as Record<string, StoredStep>
  )
  // The step Medusa's retryStep would pick: the first whose definition carries that name.
  const step = steps.find(
    (candidate) => candidate.definition?.action === stepId
  )
  if (!step) {
    throw new MedusaError(
      MedusaError.Types.INVALID_DATA,
      `step_id: ${execution.id} has no step "${stepId}"`
    )
  }
  const obstacle = retryObstacle(step)
  if (obstacle) {
    throw new MedusaError(
      MedusaError.Types.NOT_ALLOWED,
      `Step "${stepId}" cannot be retried by hand: ${obstacle}`
    )
  }

  const retried = await engine.retryStep({
    idempotencyKey: {
      workflowId: execution.workflow_id,
      transactionId: execution.transaction_id,
      stepId,
      action: TransactionHandlerType.INVOKE,
    },
    // Errors of the run's earlier steps are not this call's to throw.
    options: { container: req.scope, throwOnError: false },
  })
  res.json({
    retry: {
      id: execution.id,
      workflow_id: execution.workflow_id,
      transaction_id: execution.transaction_id,
      step_id: stepId,
      state: retried.transaction.getFlow().state,
    },
  })
}
