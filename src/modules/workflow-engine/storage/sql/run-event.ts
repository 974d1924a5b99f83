import { EVENT_CHANNEL } from "../../notifications/channels"

/**
 * The event a write of a run records in the outbox (`workflow_engine_event`,
 * see events/), decided above the storage and handed in: the storage only
 * writes it, in the same statement as the run, so that both commit together
 * or not at all.
 */
export type RunEvent = {
  name: string
  /** One event per key: a second write of the same end (a retried save) records nothing. */
  dedupe_key: string
  /** The state the payload reports: a run removed at its end is no longer in that state in the table. */
  state: string
  step_id: string | null
  error_message: string | null
}

/**
 * The parameters of RECORDED_RUN_EVENT, in its order; all null when the
 * write records no event (a run that ends done, a checkpoint in between),
 * and the insert then selects no row.
 */
export function runEventValues(event: RunEvent | undefined): (string | null)[] {
  return [
    event?.name ?? null,
    event?.dedupe_key ?? null,
    event?.state ?? null,
    event?.step_id ?? null,
    event?.error_message ?? null,
  ]
}

/** The columns of the written row an event's payload reads: what a write's RETURNING lists. */
export const RUN_EVENT_COLUMNS = `"id", "workflow_id", "transaction_id", "run_id", "resource_ids"`

/**
 * The payload of a run event, built from the written row `w` (its
 * RUN_EVENT_COLUMNS) and the expressions given: the event's data as
 * subscribers get it (events/event-payload.ts). A field more is a line more
 * here, and its column in RUN_EVENT_COLUMNS.
 */
export function runEventPayloadSql(
  w: string,
  fields: {
    state: string
    step_id: string
    error_message: string
    last_moved_at?: string
  }
): string {
  return `jsonb_build_object(
             'id', ${w}."id",
             'workflow_id', ${w}."workflow_id",
             'transaction_id', ${w}."transaction_id",
             'run_id', ${w}."run_id",
             'state', ${fields.state},
             'step_id', ${fields.step_id},
             'error_message', ${fields.error_message},
             'resource_ids', COALESCE(${w}."resource_ids", '{}'::text[])${
               fields.last_moved_at
                 ? `,
             'last_moved_at', ${fields.last_moved_at}`
                 : ""
             }
           )`
}

/**
 * A data-modifying CTE named "recorded" that inserts the event of the row
 * that the CTE "written" returns: nothing when the write changed no row (the
 * fence or the untouched guard refused it) or when no event is given. Safe
 * under concurrency: the unique `dedupe_key` decides between two writes of
 * one end, not a prior read.
 */
export const RECORDED_RUN_EVENT = `
  "recorded" AS (
    INSERT INTO "workflow_engine_event" ("name", "dedupe_key", "payload")
    SELECT e."name", e."dedupe_key",
           ${runEventPayloadSql("w", {
             state: `e."state"`,
             step_id: `e."step_id"`,
             error_message: `e."error_message"`,
           })}
      FROM (SELECT ?::text AS "name", ?::text AS "dedupe_key", ?::text AS "state",
                   ?::text AS "step_id", ?::text AS "error_message") e
      JOIN "written" w ON e."name" IS NOT NULL
    ON CONFLICT ("dedupe_key") DO NOTHING
    RETURNING "id"
  )`

/**
 * The statement's result row: how many rows of the run it wrote, and a
 * wake-up for the deliverers when it recorded an event (sent at commit, with
 * the event; nothing is sent for a write that records none).
 */
export const WRITTEN_AND_ANNOUNCED = `
  SELECT (SELECT count(*) FROM "written")::int AS "written",
         (SELECT count(pg_notify('${EVENT_CHANNEL}', '')) FROM "recorded")::int AS "recorded"`
