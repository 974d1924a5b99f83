import {
  AuthenticatedMedusaRequest,
  MedusaResponse,
} from "@medusajs/framework/http"
import { postgresEngine } from "../../../engine"

/** When this execution will be purged and which retention decided it. */
export async function GET(
  req: AuthenticatedMedusaRequest,
  res: MedusaResponse
) {
  const execution_retention = await postgresEngine(
    req.scope
  ).retrieveExecutionRetention(req.params.id)
  res.json({ execution_retention })
}
