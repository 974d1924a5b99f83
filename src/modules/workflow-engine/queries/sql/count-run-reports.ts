import { Queryable } from "../../db"

/** What the storage card says of the runs people hear about (events/). */
export type RunReports = {
  /** Runs the stuck scan reported that have not moved since. */
  stuck: number
  /** Events recorded and not yet handed to the event bus (due now, or waiting for a retry). */
  events_pending: number
  /** Events the event bus refused past the bound of attempts: undelivered, kept, logged as errors. */
  events_given_up: number
}

/**
 * The counts of RunReports, each read from a partial index that holds only
 * its rows (IDX_workflow_execution_stuck_at, IDX_workflow_engine_event_pending):
 * their cost is what those rows are, never the table.
 */
export async function countRunReports(db: Queryable): Promise<RunReports> {
  const { rows } = await db.raw(
    `SELECT (SELECT count(*) FROM "workflow_execution"
              WHERE "stuck_at" IS NOT NULL AND "deleted_at" IS NULL)::int AS "stuck",
            (SELECT count(*) FROM "workflow_engine_event"
              WHERE "delivered_at" IS NULL AND "next_attempt_at" < 'infinity')::int AS "events_pending",
            (SELECT count(*) FROM "workflow_engine_event"
              WHERE "delivered_at" IS NULL AND "next_attempt_at" = 'infinity')::int AS "events_given_up"`
  )
  return rows[0]
}
