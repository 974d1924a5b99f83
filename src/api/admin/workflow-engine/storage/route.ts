import {
  AuthenticatedMedusaRequest,
  MedusaResponse,
} from "@medusajs/framework/http"
import { postgresEngine } from "../engine"

/** What workflow_execution holds, what it costs, and what the purge does about it. */
export async function GET(
  req: AuthenticatedMedusaRequest,
  res: MedusaResponse
) {
  const storage = await postgresEngine(req.scope).retrieveExecutionStorage()
  res.json({ storage })
}
