import {
  AuthenticatedMedusaRequest,
  MedusaResponse,
} from "@medusajs/framework/http"
import { postgresEngine } from "../engine"
import { AdminGetExecutionsParamsType } from "../validators"

/** What a list row shows: no execution or context, which can be large. */
const LISTED_FIELDS = [
  "id",
  "workflow_id",
  "transaction_id",
  "run_id",
  "state",
  "created_at",
  "updated_at",
  "stuck_at",
]

/**
 * Stored executions by the list's filters and `resource_id` (an order's or
 * a customer's runs, for the admin's widgets), newest first.
 */
export async function GET(
  req: AuthenticatedMedusaRequest<unknown, AdminGetExecutionsParamsType>,
  res: MedusaResponse
) {
  const { limit, offset, order, ...filters } =
    req.validatedQuery as AdminGetExecutionsParamsType
  const column = order.replace(/^-/, "")
  const [workflow_executions, count] = await postgresEngine(
    req.scope
  ).listAndCountWorkflowExecutions(filters as Record<string, unknown>, {
    select: LISTED_FIELDS,
    order: { [column]: order.startsWith("-") ? "DESC" : "ASC", id: "DESC" },
    take: limit,
    skip: offset,
  })
  res.json({
    // Whether the run is stuck, rather than since when: what the admin's badge shows.
    workflow_executions: workflow_executions.map((execution) => {
      const { stuck_at, ...listed } = execution as typeof execution & {
        stuck_at: Date | null
      }
      return { ...listed, stuck: Boolean(stuck_at) }
    }),
    count,
    limit,
    offset,
  })
}
