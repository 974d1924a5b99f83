import { EXPIRED_BEFORE_BACKFILL_SQL } from "../../expiry"
import { Queryable } from "../../db"
import { KEPT_FOREVER_SQL } from "./count-kept-forever"
import { ExecutionGroup, rowBytesSql } from "./estimate-group-bytes"

/** What the storage report counts, per (workflow, state) group. */
export type ScannedGroup = ExecutionGroup & {
  /** Finished runs of the group no purge deletes (KEPT_FOREVER_SQL). */
  kept_forever: number
  /** Rows of the group a purge would delete now, soft-deleted ones included, as a purge deletes them. */
  expired: number
  /** When its oldest live execution was created. */
  oldest: Date | null
}

/**
 * Everything the storage report counts, in one pass over workflow_execution:
 * for a table the online upgrade has not finished (see upgrade/), where the
 * counters, the expiries and the indexes the report otherwise reads are not
 * all there yet. One sequential read, as Medusa's engine's count of the table
 * is. Exact throughout: a group's bytes are its rows' sum, not a sample's
 * estimate, and what expired (by the rule the expiry back-fill applies) is
 * counted whole. Groups without live executions come back too, for what
 * expired among their soft-deleted rows.
 */
export async function scanStorage(db: Queryable): Promise<ScannedGroup[]> {
  const { rows } = await db.raw(
    `SELECT "workflow_id", "state"::text AS "state",
            count(*) FILTER (WHERE "deleted_at" IS NULL) AS "executions",
            sum(${rowBytesSql("w")}) FILTER (WHERE "deleted_at" IS NULL) AS "bytes",
            count(*) FILTER (WHERE ${KEPT_FOREVER_SQL}) AS "kept_forever",
            count(*) FILTER (WHERE ${EXPIRED_BEFORE_BACKFILL_SQL}) AS "expired",
            min("created_at") FILTER (WHERE "deleted_at" IS NULL) AS "oldest"
       FROM "workflow_execution" AS w
      GROUP BY "workflow_id", "state"
      ORDER BY "workflow_id", "state"`
  )
  return rows.map(
    (row: {
      workflow_id: string
      state: string
      executions: string
      bytes: string | null
      kept_forever: string
      expired: string
      oldest: Date | null
    }) => ({
      workflow_id: row.workflow_id,
      state: row.state,
      executions: Number(row.executions),
      estimated_bytes: row.bytes === null ? null : Number(row.bytes),
      kept_forever: Number(row.kept_forever),
      expired: Number(row.expired),
      oldest: row.oldest,
    })
  )
}
