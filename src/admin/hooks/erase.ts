import { useMutation, useQueryClient } from "@tanstack/react-query"
import type { EraseResult } from "../../modules/workflow-engine/retention/execution-retention"
import { sdk } from "../lib/sdk"
import { queryKeys } from "./query-keys"

/** POST /admin/workflow-engine/erase: every stored run of these transactions, now. */
export function useErase() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: async (transactionIds: string[]) =>
      (
        await sdk.client.fetch<{ erase: EraseResult }>(
          "/admin/workflow-engine/erase",
          {
            method: "POST",
            body: { transaction_ids: transactionIds },
          }
        )
      ).erase,
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.storage })
      await queryClient.invalidateQueries({
        queryKey: queryKeys.medusaExecutions,
      })
    },
  })
}
