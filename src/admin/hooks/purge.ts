import { useMutation, useQueryClient } from "@tanstack/react-query"
import type { PurgeResult } from "../../modules/workflow-engine/retention/execution-retention"
import { sdk } from "../lib/sdk"
import { Serialized } from "../lib/serialized"
import { queryKeys } from "./query-keys"

export type PurgeBody = { dry_run?: boolean; max_rows?: number }
export type Purge = Serialized<PurgeResult>

/** POST /admin/workflow-engine/purge: a preview (`dry_run`) or a pass now. */
export function usePurge() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: async (body: PurgeBody) =>
      (
        await sdk.client.fetch<{ purge: Purge }>(
          "/admin/workflow-engine/purge",
          { method: "POST", body }
        )
      ).purge,
    onSuccess: async (purge) => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.storage })
      if (!purge.dry_run) {
        await queryClient.invalidateQueries({
          queryKey: queryKeys.medusaExecutions,
        })
      }
    },
  })
}
