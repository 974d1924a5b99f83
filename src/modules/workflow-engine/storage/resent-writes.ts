import { TransactionCheckpoint } from "@medusajs/framework/orchestration"
import { isDeepStrictEqual } from "util"
import { StoredCheckpointRow } from "./sql/types"

/**
 * Whether a write sent again, after its connection was lost before the reply
 * (see connection-loss.ts), finds that its first sending committed: the
 * stored run is exactly the checkpoint being written (a checkpoint holds its
 * steps' moments to the millisecond, so no other execution writes the same
 * one), or, when the write removes the run, no row is left. The write is then
 * done. The checks a save makes of the stored run would otherwise take the
 * write for another execution's, refuse it as overtaken, already answered or
 * already started, and stop the run there.
 */
export function foundOwnWrite(
  data: TransactionCheckpoint,
  stored: StoredCheckpointRow | undefined,
  { removing }: { removing: boolean }
): boolean {
  if (!stored) {
    return removing
  }
  return (
    isDeepStrictEqual(stored.execution, asStored(data.flow)) &&
    isDeepStrictEqual(
      stored.context,
      asStored({ data: data.context, errors: data.errors })
    )
  )
}

// What the JSON column gives back of a value written to it.
const asStored = (value: unknown): unknown => JSON.parse(JSON.stringify(value))
