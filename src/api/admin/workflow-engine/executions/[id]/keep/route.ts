import {
  AuthenticatedMedusaRequest,
  MedusaResponse,
} from "@medusajs/framework/http"
import { postgresEngine } from "../../../engine"
import { AdminPostKeepExecutionType } from "../../../validators"

/** Keeps a finished execution from the purge until the DELETE of this path, recording the admin and the reason. */
export async function POST(
  req: AuthenticatedMedusaRequest<AdminPostKeepExecutionType>,
  res: MedusaResponse
) {
  const kept = await postgresEngine(req.scope).keepWorkflowExecution(
    req.params.id,
    { reason: req.validatedBody.reason, keptBy: req.auth_context.actor_id }
  )
  res.json({ kept })
}

/** Stops keeping it: its own expiry applies again, and one already past goes with the next purge pass. */
export async function DELETE(
  req: AuthenticatedMedusaRequest,
  res: MedusaResponse
) {
  const unkept = await postgresEngine(req.scope).unkeepWorkflowExecution(
    req.params.id
  )
  res.json({ unkept })
}
