import {
  AuthenticatedMedusaRequest,
  MedusaResponse,
} from "@medusajs/framework/http"
import { postgresEngine } from "../engine"
import { AdminPostEraseType } from "../validators"

/** Erases every stored run of the given transactions now (a privacy request), recorded in the audit trail. */
export async function POST(
  req: AuthenticatedMedusaRequest<AdminPostEraseType>,
  res: MedusaResponse
) {
  const erase = await postgresEngine(req.scope).eraseWorkflowExecutions({
    transaction_ids: req.validatedBody.transaction_ids,
    actor: req.auth_context.actor_id,
  })
  res.json({ erase })
}
