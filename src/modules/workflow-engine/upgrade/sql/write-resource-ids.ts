import { ExecutionKey, UpgradeConnection } from "./types"

/**
 * Sets the `resource_ids` of the given rows, by primary key, in one
 * set-based statement; only where still NULL (an insert of this engine, or
 * an earlier batch, wrote them already). Row locks only, for the batch's
 * short transaction.
 */
export async function writeResourceIds(
  db: UpgradeConnection,
  rows: { key: ExecutionKey; resourceIds: string[] }[]
): Promise<number> {
  if (!rows.length) {
    return 0
  }
  const result = await db.query(
    `UPDATE "workflow_execution" AS e
        SET "resource_ids" = ARRAY(SELECT jsonb_array_elements_text(r.ids))
       FROM jsonb_to_recordset($1::jsonb) AS r(w text, t text, r text, ids jsonb)
      WHERE (e."workflow_id", e."transaction_id", e."run_id") = (r.w, r.t, r.r)
        AND e."resource_ids" IS NULL`,
    [
      JSON.stringify(
        rows.map(({ key: [w, t, r], resourceIds }) => ({
          w,
          t,
          r,
          ids: resourceIds,
        }))
      ),
    ]
  )
  return result.rowCount ?? 0
}
