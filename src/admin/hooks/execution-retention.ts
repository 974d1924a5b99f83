import { useQuery } from "@tanstack/react-query"
import type { ExecutionRetentionReport } from "../../modules/workflow-engine/queries/storage-report"
import { sdk } from "../lib/sdk"
import { Serialized } from "../lib/serialized"
import { queryKeys } from "./query-keys"

export type ExecutionRetention = Serialized<ExecutionRetentionReport>

/** GET /admin/workflow-engine/executions/:id/retention */
export function useExecutionRetention(id: string) {
  return useQuery({
    queryKey: queryKeys.retention(id),
    queryFn: () =>
      sdk.client.fetch<{ execution_retention: ExecutionRetention }>(
        `/admin/workflow-engine/executions/${encodeURIComponent(id)}/retention`
      ),
    select: (response) => response.execution_retention,
  })
}
