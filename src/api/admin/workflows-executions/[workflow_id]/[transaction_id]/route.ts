import {
  AuthenticatedMedusaRequest,
  MedusaResponse,
} from "@medusajs/framework/http"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"

/**
 * Replaces Medusa's route of the same path, which passes workflow_id and
 * transaction_id to Query as top-level arguments. Query treats both as
 * primary keys of workflow_execution (the model's composite key), keeps only
 * the first as the lookup key and drops the other, so the engine is asked for
 * every run of the workflow and the route answers with the first of them.
 * Given as filters, both reach the engine. Medusa's own middlewares for this
 * path still run first (authentication, `fields`), so the answer keeps its shape.
 */
export async function GET(
  req: AuthenticatedMedusaRequest,
  res: MedusaResponse
) {
  const query = req.scope.resolve(ContainerRegistrationKeys.QUERY)
  const { workflow_id, transaction_id } = req.params
  const { data } = await query.graph({
    entity: "workflow_execution",
    fields: req.queryConfig.fields,
    filters: { workflow_id, transaction_id },
    // A transaction can have several runs (run_id): the newest is the one to show.
    pagination: { order: { created_at: "DESC" }, take: 1 },
  })
  res.status(200).json({ workflow_execution: data[0] })
}
