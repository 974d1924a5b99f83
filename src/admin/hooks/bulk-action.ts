import { useMutation, useQueryClient } from "@tanstack/react-query"
import type { BulkActionResult } from "../../modules/workflow-engine/bulk/bulk-actions"
import { sdk } from "../lib/sdk"
import { queryKeys } from "./query-keys"

/** The list filters a bulk action takes (POST /admin/workflow-engine/bulk). */
export type BulkFilters = {
  workflow_id?: string
  state?: string
  created_at?: { $gte?: string; $lte?: string }
  resource_id?: string
  q?: string
}

export type BulkBody = {
  action: "retry" | "cancel"
  filters: BulkFilters
  dry_run?: boolean
}

export type BulkAction = BulkActionResult

/** POST /admin/workflow-engine/bulk: a preview (`dry_run`) or the action now. */
export function useBulkAction() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: async (body: BulkBody) =>
      (
        await sdk.client.fetch<{ bulk: BulkAction }>(
          "/admin/workflow-engine/bulk",
          { method: "POST", body }
        )
      ).bulk,
    onSuccess: async (bulk) => {
      if (!bulk.dry_run) {
        await queryClient.invalidateQueries({
          queryKey: queryKeys.medusaExecutions,
        })
        await queryClient.invalidateQueries({ queryKey: queryKeys.storage })
      }
    },
  })
}
