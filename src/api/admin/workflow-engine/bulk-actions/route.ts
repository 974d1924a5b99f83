import {
  AuthenticatedMedusaRequest,
  MedusaResponse,
} from "@medusajs/framework/http"
import { postgresEngine } from "../engine"
import { AdminGetBulkActionsParamsType } from "../validators"

/** The bulk action audit trail, newest first. */
export async function GET(
  req: AuthenticatedMedusaRequest<unknown, AdminGetBulkActionsParamsType>,
  res: MedusaResponse
) {
  const { limit, offset } = req.validatedQuery as AdminGetBulkActionsParamsType
  const [bulk_actions, count] = await postgresEngine(
    req.scope
  ).listAndCountWorkflowExecutionBulkActions(
    {},
    { order: { created_at: "DESC", id: "DESC" }, take: limit, skip: offset }
  )
  res.json({ bulk_actions, count, limit, offset })
}
