import { createHash } from "crypto"
import { HotOptions, HotStatement, runHot } from "./prepared-statement"
import { Queryable, WrittenAlong } from "../../db"
import {
  alongBindings,
  alongCtes,
  alongResults,
  readAlong,
} from "./written-along"
import { STEP_FINISHED_STATES_SQL } from "../../transaction-states"
import { ExecutionRow } from "./types"
import { UNTOUCHED_GUARD } from "./untouched-guard"
import {
  RECORDED_RUN_EVENT,
  RUN_EVENT_COLUMNS,
  RunEvent,
  runEventValues,
  WRITTEN_AND_ANNOUNCED,
} from "./run-event"

/**
 * The row is still at the version the writer last saw (see seen-versions.ts),
 * and the step being saved is not finished in the phase the run is in (the
 * one check of a locked write that reads the stored run apart from its
 * version: see assertNotOvertaken).
 */
const UNCHANGED_GUARD = `${UNTOUCHED_GUARD}
  AND "xmin" = ?::xid
  AND COALESCE("execution" #>> ARRAY['steps', ?::text, ?::text, 'state'], '') NOT IN (${STEP_FINISHED_STATES_SQL})`

// A write is the run moving: whatever the stuck scan reported of it no longer holds (`stuck_at`).
const updateSql = (guard: string, along: WrittenAlong[]) => `
  WITH "written" AS (
    UPDATE "workflow_execution"
       SET "execution" = ?::jsonb, "context" = ?::jsonb, "state" = ?,
           "retention_time" = ?, "updated_at" = now(),
           "expires_at" = now() + make_interval(secs => ?::int), "owner_instance_id" = ?,
           "stuck_at" = NULL
     WHERE "workflow_id" = ? AND "transaction_id" = ? AND "run_id" = ?
       AND "deleted_at" IS NULL AND "owner_epoch" = ? ${guard}
    RETURNING ${RUN_EVENT_COLUMNS}, "xmin"::text AS "version"
  )${alongCtes(along)}, ${RECORDED_RUN_EVENT}
  ${WRITTEN_AND_ANNOUNCED}, (SELECT "version" FROM "written") AS "version"${alongResults(along)}`

const GUARDS: Record<UpdateGuard["only"], { name: string; guard: string }> = {
  any: { name: "workflow_engine_update_execution", guard: "" },
  untouched: {
    name: "workflow_engine_update_untouched_execution",
    guard: UNTOUCHED_GUARD,
  },
  unchanged: {
    name: "workflow_engine_update_unchanged_execution",
    guard: UNCHANGED_GUARD,
  },
}

// One statement per guard and text of what is written along (a run's end): each is prepared under its own name.
const statements = new Map<string, HotStatement>()

function statementFor(
  only: UpdateGuard["only"],
  along: WrittenAlong[]
): HotStatement {
  const alongSql = `${alongCtes(along)}${alongResults(along)}`
  const key = `${only}${alongSql}`
  let statement = statements.get(key)
  if (!statement) {
    const { name, guard } = GUARDS[only]
    statement = {
      name: alongSql
        ? `${name}_${createHash("sha1").update(alongSql).digest("hex").slice(0, 8)}`
        : name,
      sql: updateSql(guard, along),
    }
    statements.set(key, statement)
  }
  return statement
}

/** What an unchanged write compares: the version last seen, and the step being saved in its phase. */
export type UnchangedSince = {
  version: string
  step?: { id: string; phase: "invoke" | "compensate" }
}

/**
 * Which writes go ahead: `any` under the row lock (the caller checked the
 * stored run), `untouched` (see UNTOUCHED_GUARD), or `unchanged` since the
 * writer last saw the row (see UNCHANGED_GUARD).
 */
export type UpdateGuard =
  | { only: "any" }
  | { only: "untouched" }
  | { only: "unchanged"; since: UnchangedSince }

/**
 * Writes the latest checkpoint of a run in place, while the run is still at
 * the epoch the writer loaded it at (the fence: see fencing.ts); a run taken
 * over meanwhile is left as it is (nothing written), and the locked path says why.
 * With `event`, the run event this write causes is recorded in the same
 * statement (see run-event.ts): no statement more, and no event without the write;
 * so is what `along` changes (a run's end: see WrittenAlong).
 *
 * Returns the row's new version, or undefined when the fence or the guard
 * left it as it was.
 */
export async function updateExecution(
  db: Queryable,
  row: ExecutionRow,
  {
    guard,
    event,
    along = [],
    ...hot
  }: {
    guard: UpdateGuard
    event?: RunEvent
    along?: WrittenAlong[]
  } & HotOptions
): Promise<string | undefined> {
  const values = [
    JSON.stringify(row.execution),
    JSON.stringify(row.context),
    row.state,
    row.retention_time,
    row.expires_in_seconds,
    row.owner_instance_id,
    row.workflow_id,
    row.transaction_id,
    row.run_id,
    row.owner_epoch,
  ]
  if (guard.only === "unchanged") {
    // No step: a path no flow has, which reads as not finished.
    const step = guard.since.step
    values.push(guard.since.version, step?.id ?? "", step?.phase ?? "invoke")
  }
  const result = await runHot(
    db,
    statementFor(guard.only, along),
    [...values, ...alongBindings(along), ...runEventValues(event)],
    hot
  )
  const written = result.rows[0]
  readAlong(written, along)
  return written?.written === 1 ? written.version : undefined
}
