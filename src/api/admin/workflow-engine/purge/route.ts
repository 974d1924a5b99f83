import {
  AuthenticatedMedusaRequest,
  MedusaResponse,
} from "@medusajs/framework/http"
import { postgresEngine } from "../engine"
import { AdminPostPurgeType } from "../validators"

/** Previews (`dry_run`) or runs a purge pass now, recorded with the admin as actor. */
export async function POST(
  req: AuthenticatedMedusaRequest<AdminPostPurgeType>,
  res: MedusaResponse
) {
  const { dry_run, max_rows } = req.validatedBody
  const purge = await postgresEngine(req.scope).purgeExpiredExecutions({
    dryRun: dry_run,
    maxRows: max_rows,
    actor: req.auth_context.actor_id,
    trigger: "admin",
  })
  res.json({ purge })
}
