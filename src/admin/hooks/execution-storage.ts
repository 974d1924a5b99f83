import { useQuery } from "@tanstack/react-query"
import type { ExecutionStorageDTO } from "../../modules/workflow-engine/services/workflows-module"
import { sdk } from "../lib/sdk"
import { Serialized } from "../lib/serialized"
import { queryKeys } from "./query-keys"

export type ExecutionStorage = Serialized<ExecutionStorageDTO>

/** GET /admin/workflow-engine/storage */
export function useExecutionStorage() {
  return useQuery({
    queryKey: queryKeys.storage,
    queryFn: () =>
      sdk.client.fetch<{ storage: ExecutionStorage }>(
        "/admin/workflow-engine/storage"
      ),
    select: (response) => response.storage,
  })
}
