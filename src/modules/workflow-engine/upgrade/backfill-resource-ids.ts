import { resourceIdsOf } from "../references/resource-ids"
import { unreferencedInputs } from "./sql/unreferenced-inputs"
import { ExecutionKey, UpgradeConnection } from "./sql/types"
import { writeResourceIds } from "./sql/write-resource-ids"

/**
 * One batch of the resource_ids back-fill, one key range, in the caller's
 * transaction: the ids are read from each row's input by the same code as
 * the insert's (references/), so the one table of prefixes decides both.
 * A row whose input holds none gets an empty list: read, not to be read again.
 */
export async function backfillResourceIdsBatch(
  db: UpgradeConnection,
  after: ExecutionKey | null,
  through: ExecutionKey | null
): Promise<number> {
  const inputs = await unreferencedInputs(db, after, through)
  return await writeResourceIds(
    db,
    inputs.map(({ key, payload }) => ({
      key,
      resourceIds: resourceIdsOf(payload),
    }))
  )
}
