import { keepPreviousData, useQuery } from "@tanstack/react-query"
import type { WorkflowExecutionDTO } from "@medusajs/framework/types"
import { sdk } from "../lib/sdk"
import { Serialized } from "../lib/serialized"
import { queryKeys } from "./query-keys"

/** A row of the list: the execution without its steps and context. */
export type ListedExecution = Serialized<
  Pick<
    WorkflowExecutionDTO,
    | "id"
    | "workflow_id"
    | "transaction_id"
    | "state"
    | "created_at"
    | "updated_at"
  >
> & {
  run_id: string
  /** In flight and not moving, where the list says so (the engine's stuck runs). */
  stuck?: boolean
}

/** What the list can be asked for; absent keys are not sent. */
export type ExecutionsQuery = {
  resource_id?: string | string[]
  /** Runs in flight that have not moved for a while; sent only when set (the engine's `stuck` filter). */
  stuck?: boolean
  limit?: number
  offset?: number
}

/** GET /admin/workflow-engine/executions, newest first. */
export function useExecutions(
  query: ExecutionsQuery,
  { enabled = true }: { enabled?: boolean } = {}
) {
  const sent = Object.fromEntries(
    Object.entries(query).filter(([, value]) => value !== undefined)
  )
  return useQuery({
    queryKey: queryKeys.executions(sent),
    queryFn: () =>
      sdk.client.fetch<{
        workflow_executions: ListedExecution[]
        count: number
        limit: number
        offset: number
      }>("/admin/workflow-engine/executions", { query: sent }),
    placeholderData: keepPreviousData,
    enabled,
  })
}
