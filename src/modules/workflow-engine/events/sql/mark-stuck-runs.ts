import { TransactionStepStatus } from "@medusajs/framework/utils"
import { Queryable } from "../../db"
import { isLive } from "../../instances/sql/live-instance"
import {
  RUN_EVENT_COLUMNS,
  runEventPayloadSql,
  WRITTEN_AND_ANNOUNCED,
} from "../../storage/sql/run-event"
import { isInFlightRow } from "../../transaction-states"
import { WorkflowExecutionEvents } from "../event-names"

// A step in either phase that waits for something legitimate: an async answer, or a retry (a person's or a timer's).
const WAITING_STEP = `'$.steps.* \\? (@.invoke.status == "${TransactionStepStatus.WAITING}" || @.invoke.status == "${TransactionStepStatus.TEMPORARY_FAILURE}" || @.compensate.status == "${TransactionStepStatus.WAITING}" || @.compensate.status == "${TransactionStepStatus.TEMPORARY_FAILURE}")'`

/**
 * Marks up to `limit` runs stuck and records one `workflow_execution.stuck`
 * event for each, in one statement: runs in flight whose owner instance is
 * alive (a dead one's runs are recovery's), that have not been written for
 * `stuckAfterSeconds`, that no timer will move and with no step waiting for
 * an answer or a retry, not already reported since they last moved. Reads
 * only the rows in flight (the in-flight unique index's predicate). The
 * dedupe key holds the time the run last moved, so a run that moves and
 * stalls again is reported again, and a stall twice never. Safe under
 * concurrency: the candidates are locked with SKIP LOCKED (a run being
 * written is not stalled), `stuck_at` is set in the same statement, and a
 * run's next write clears it (storage/sql/update-execution.ts). Returns how
 * many runs were marked.
 */
export async function markStuckRuns(
  db: Queryable,
  stuckAfterSeconds: number,
  limit: number
): Promise<number> {
  const { rows } = await db.raw(
    `WITH "stalled" AS (
       SELECT e."workflow_id", e."transaction_id", e."run_id"
         FROM "workflow_execution" e
        WHERE ${isInFlightRow("e")}
          AND e."stuck_at" IS NULL
          AND e."updated_at" < now() - make_interval(secs => ?::int)
          AND ${isLive(`e."owner_instance_id"`)}
          AND NOT EXISTS (SELECT 1 FROM "workflow_execution_timer" t
                           WHERE t."workflow_id" = e."workflow_id" AND t."transaction_id" = e."transaction_id")
          AND NOT jsonb_path_exists(COALESCE(e."execution", '{}'::jsonb), ${WAITING_STEP})
        ORDER BY e."updated_at"
        LIMIT ?
        FOR UPDATE OF e SKIP LOCKED
     ), "written" AS (
       UPDATE "workflow_execution"
          SET "stuck_at" = now()
        WHERE ("workflow_id", "transaction_id", "run_id") IN (SELECT "workflow_id", "transaction_id", "run_id" FROM "stalled")
       RETURNING ${RUN_EVENT_COLUMNS}, "state", "updated_at"
     ), "recorded" AS (
       INSERT INTO "workflow_engine_event" ("name", "dedupe_key", "payload")
       SELECT ?::text,
              concat_ws(':', w."workflow_id", w."transaction_id", w."run_id", 'stuck', (extract(epoch FROM w."updated_at") * 1000000)::bigint),
              ${runEventPayloadSql("w", {
                state: `w."state"`,
                step_id: `NULL::text`,
                error_message: `NULL::text`,
                last_moved_at: `w."updated_at"`,
              })}
         FROM "written" w
       ON CONFLICT ("dedupe_key") DO NOTHING
       RETURNING "id"
     )
     ${WRITTEN_AND_ANNOUNCED}`,
    [stuckAfterSeconds, limit, WorkflowExecutionEvents.STUCK]
  )
  return rows[0]?.written ?? 0
}
