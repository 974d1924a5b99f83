import { ulid } from "ulid"
import { WrittenAlong } from "../../db"
import { TRANSACTION_CHANNEL } from "../channels"

/** What a finished-transaction notification carries: ids only (NOTIFY payloads stop at 8 kB). */
export type FinishedNotice = {
  /** The finish's row in workflow_engine_finish: one finish heard live and read from the log is delivered once. */
  id: string
  workflow_id: string
  transaction_id: string
  state: string
  instance_id: string
}

/** A new finish's id. */
export const finishId = () => `wf_fin_${ulid()}`

/** How long a finish stays readable by instances that poll (see recent-finishes). */
export const FINISH_KEPT_SECONDS = 60 * 60
// Rows older than that which one finish deletes: more than one finish adds, so the log shrinks back after a burst.
const PRUNED_PER_FINISH = 10

/**
 * Tells every instance that a transaction finished, with the write of its
 * end (see WrittenAlong): a NOTIFY for those that listen, a row of
 * `workflow_engine_finish` for those that poll or missed it. Both appear at
 * commit, with the run's row (when it is kept) already readable. The prune
 * skips rows another finish is deleting, so concurrent finishes never wait
 * on each other here.
 */
export function finishNoticedWith(notice: FinishedNotice): WrittenAlong {
  return {
    sql: `"finishes_pruned" AS (
       DELETE FROM "workflow_engine_finish"
        WHERE "id" IN (SELECT "id" FROM "workflow_engine_finish"
                        WHERE "created_at" < now() - make_interval(secs => ?)
                        ORDER BY "created_at" LIMIT ? FOR UPDATE SKIP LOCKED)
          AND EXISTS (SELECT 1 FROM "written")
     ), "finish_logged" AS (
       INSERT INTO "workflow_engine_finish" ("id", "workflow_id", "transaction_id", "state", "instance_id", "created_at")
       SELECT ?, ?, ?, ?, ?, clock_timestamp() WHERE EXISTS (SELECT 1 FROM "written")
       RETURNING pg_notify(?, ?)
     )`,
    bindings: [
      FINISH_KEPT_SECONDS,
      PRUNED_PER_FINISH,
      notice.id,
      notice.workflow_id,
      notice.transaction_id,
      notice.state,
      notice.instance_id,
      TRANSACTION_CHANNEL,
      JSON.stringify(notice),
    ],
  }
}
