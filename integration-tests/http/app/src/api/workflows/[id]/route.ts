import type { MedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import type { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"

/**
 * GET /workflows/:id — the stored execution of one transaction, read through
 * the Workflow Engine module the way Medusa's docs show it.
 */
export async function GET(req: MedusaRequest, res: MedusaResponse) {
  const workflowEngine = req.scope.resolve<IWorkflowEngineService>(
    Modules.WORKFLOW_ENGINE
  )

  const [workflowExecution] = await workflowEngine.listWorkflowExecutions({
    transaction_id: req.params.id,
  })

  if (!workflowExecution) {
    res.status(404).json({
      message: `No workflow execution for transaction ${req.params.id}`,
    })
    return
  }

  res.json({ workflowExecution })
}
