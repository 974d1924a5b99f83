import {
  AuthenticatedMedusaRequest,
  MedusaResponse,
} from "@medusajs/framework/http"
import { MedusaError } from "@medusajs/framework/utils"
import { FINISHED_STATES } from "../../../../../../modules/workflow-engine/transaction-states"
import { postgresEngine } from "../../../engine"

/**
 * Cancels the run in flight of this `wf_exec_…` id through the engine: the
 * steps it finished are compensated. Medusa's admin has no route for it. A
 * finished run is refused: cancelling it would revert what it did (an order,
 * a payment) long after the fact, which is not what "cancel" means here.
 */
export async function POST(
  req: AuthenticatedMedusaRequest,
  res: MedusaResponse
) {
  const engine = postgresEngine(req.scope)
  const execution = await engine.retrieveWorkflowExecution(req.params.id)
  if (FINISHED_STATES.has(execution.state)) {
    throw new MedusaError(
      MedusaError.Types.NOT_ALLOWED,
      `Only an execution in flight can be cancelled; ${execution.id} is ${execution.state}`
    )
  }
  const cancelled = await engine.cancel(execution.workflow_id, {
    transactionId: execution.transaction_id,
    container: req.scope,
  })
  if (!("transaction" in cancelled)) {
    throw new MedusaError(
      MedusaError.Types.NOT_FOUND,
      `No run in flight of ${execution.id} to cancel`
    )
  }
  res.json({
    cancel: {
      id: execution.id,
      workflow_id: execution.workflow_id,
      transaction_id: execution.transaction_id,
      state: cancelled.transaction.getFlow().state,
    },
  })
}
