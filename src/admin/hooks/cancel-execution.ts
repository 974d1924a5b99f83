import { useMutation, useQueryClient } from "@tanstack/react-query"
import { sdk } from "../lib/sdk"
import { queryKeys } from "./query-keys"

export type CancelledExecution = {
  id: string
  workflow_id: string
  transaction_id: string
  state: string
}

/** POST /admin/workflow-engine/executions/:id/cancel: cancels a run in flight. */
export function useCancelExecution(id: string) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: async () =>
      (
        await sdk.client.fetch<{ cancel: CancelledExecution }>(
          `/admin/workflow-engine/executions/${encodeURIComponent(id)}/cancel`,
          { method: "POST", body: {} }
        )
      ).cancel,
    onSuccess: async () => {
      await queryClient.invalidateQueries({
        queryKey: queryKeys.medusaExecutions,
      })
      await queryClient.invalidateQueries({ queryKey: queryKeys.retention(id) })
      await queryClient.invalidateQueries({ queryKey: queryKeys.storage })
    },
  })
}
