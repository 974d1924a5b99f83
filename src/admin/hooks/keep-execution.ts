import { useMutation, useQueryClient } from "@tanstack/react-query"
import { sdk } from "../lib/sdk"
import { queryKeys } from "./query-keys"

/** POST (keep, with a reason) or DELETE (stop keeping) /admin/workflow-engine/executions/:id/keep. */
export function useKeepExecution(id: string) {
  const queryClient = useQueryClient()
  const path = `/admin/workflow-engine/executions/${encodeURIComponent(id)}/keep`
  return useMutation({
    mutationFn: async (reason: string | null) =>
      reason === null
        ? await sdk.client.fetch(path, { method: "DELETE" })
        : await sdk.client.fetch(path, { method: "POST", body: { reason } }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.retention(id) })
      await queryClient.invalidateQueries({ queryKey: queryKeys.storage })
    },
  })
}
