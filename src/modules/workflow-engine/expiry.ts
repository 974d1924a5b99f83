import { FINISHED_STATES_SQL } from "./transaction-states"

/**
 * When Medusa's engines let a finished row go: `retention_time` seconds after
 * its last update. The expiry back-fill gives the rows already in the table
 * this expiry, and a purge gives it to the rows an instance still on Medusa's
 * engine finished during a rolling deploy.
 */
export const MEDUSA_EXPIRY_SQL = `"updated_at" + make_interval(secs => "retention_time")`

/**
 * A row's expiry on a table whose expiry back-fill has not run yet (see
 * upgrade/), or that Medusa's engine wrote to since: its own `expires_at`,
 * else, once finished, the one the back-fill (or a purge pass) will give it.
 */
export const EXPIRY_BEFORE_BACKFILL_SQL = `coalesce("expires_at", CASE WHEN "state" IN (${FINISHED_STATES_SQL}) THEN ${MEDUSA_EXPIRY_SQL} END)`

/**
 * "The row is a finished run past its expiry" on such a table. It holds for
 * exactly the rows a purge deletes once the back-fill is done, and no index
 * serves it: it is read from the table's rows, as Medusa's own purge reads them.
 */
export const EXPIRED_BEFORE_BACKFILL_SQL = `"state" IN (${FINISHED_STATES_SQL}) AND ${EXPIRY_BEFORE_BACKFILL_SQL} <= now()`

/**
 * The expiry of a run someone keeps: later than every now(), so that a purge,
 * which reads IDX_workflow_execution_expires_at up to now(), never reaches it,
 * and not NULL, which the expiry back-fill would fill in. Kept runs are found
 * at this end of the same index.
 */
export const KEPT_EXPIRY_SQL = `'infinity'::timestamptz`
