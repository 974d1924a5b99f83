import { Queryable } from "../../db"
import { FinishedNotice } from "./notify-finished"

export type LoggedFinish = FinishedNotice & { id: string }

/**
 * The finishes other instances logged since `since` (database clock; unset:
 * `marginSeconds` before now) for the given workflows, and the database's time of this read, from which the
 * caller's next read starts (less a margin for transactions that logged
 * before this read but committed after it).
 */
export async function recentFinishes(
  db: Queryable,
  {
    since,
    marginSeconds,
    workflowIds,
    otherThan,
  }: {
    since: Date | undefined
    marginSeconds: number
    workflowIds: string[]
    otherThan: string
  }
): Promise<{ finishes: LoggedFinish[]; readAt: Date }> {
  const result = await db.raw(
    `SELECT now() AS "read_at", f."id", f."workflow_id", f."transaction_id", f."state", f."instance_id"
       FROM (SELECT 1) AS "one"
       LEFT JOIN "workflow_engine_finish" AS f
         ON f."created_at" > COALESCE(?::timestamptz, now() - make_interval(secs => ?)) AND f."workflow_id" = ANY(?) AND f."instance_id" <> ?
      ORDER BY f."created_at"`,
    [since ?? null, marginSeconds, workflowIds, otherThan]
  )
  return {
    readAt: new Date(result.rows[0].read_at),
    finishes: result.rows.filter(
      (row: { id: string | null }) => row.id !== null
    ),
  }
}
