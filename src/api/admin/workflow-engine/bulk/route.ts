import {
  AuthenticatedMedusaRequest,
  MedusaResponse,
} from "@medusajs/framework/http"
import { postgresEngine } from "../engine"
import { AdminPostBulkActionType } from "../validators"

/** Retries or cancels the stored runs the list's filters match (or, with `dry_run`, says what it would do), recorded with the admin as actor. */
export async function POST(
  req: AuthenticatedMedusaRequest<AdminPostBulkActionType>,
  res: MedusaResponse
) {
  const { action, filters, dry_run } = req.validatedBody
  const bulk = await postgresEngine(req.scope).bulkActOnWorkflowExecutions({
    action,
    filters,
    dryRun: dry_run ?? false,
    actor: req.auth_context.actor_id,
  })
  res.json({ bulk })
}
