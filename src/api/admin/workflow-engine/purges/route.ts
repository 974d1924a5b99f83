import {
  AuthenticatedMedusaRequest,
  MedusaResponse,
} from "@medusajs/framework/http"
import { postgresEngine } from "../engine"
import { AdminGetPurgesParamsType } from "../validators"

/** The purge audit trail, newest first. */
export async function GET(
  req: AuthenticatedMedusaRequest<unknown, AdminGetPurgesParamsType>,
  res: MedusaResponse
) {
  const { limit, offset } = req.validatedQuery as AdminGetPurgesParamsType
  const [purges, count] = await postgresEngine(
    req.scope
  ).listAndCountWorkflowExecutionPurges(
    {},
    { order: { created_at: "DESC", id: "DESC" }, take: limit, skip: offset }
  )
  res.json({ purges, count, limit, offset })
}
