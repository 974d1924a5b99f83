import { heartbeatChannel } from "../../notifications/channels"
import { Queryable } from "../../db"

export type InstanceRow = {
  id: string
  hostname: string
  pid: number
  worker_mode: string
}

export type Renewal = {
  /** false when the lease had run out or its row was gone: the others judged this instance dead (a long pause, a cut connection) and may have taken over its work */
  renewed: boolean
  /** instances whose lease ran out and whose row is still there: their work may wait for a recovery */
  deadInstances: number
}

/**
 * Creates or renews this instance's lease, and counts the dead instances on
 * the way (the table is small). The sub-selects of RETURNING read the table
 * as it was before this statement: the lease being renewed, not the new one.
 * It also notifies the instance's own channel with the database's time: the
 * heartbeat by which its listener knows it still hears, and up to when (see
 * notification-listener), at no statement of its own.
 */
export async function renewInstance(
  db: Queryable,
  instance: InstanceRow,
  leaseMs: number
): Promise<Renewal> {
  const result = await db.raw(
    `INSERT INTO "workflow_engine_instance" ("id", "hostname", "pid", "worker_mode", "lease_expires_at")
     VALUES (?, ?, ?, ?, now() + make_interval(secs => ? / 1000.0))
     ON CONFLICT ("id") DO UPDATE SET "lease_expires_at" = EXCLUDED."lease_expires_at"
     RETURNING COALESCE((SELECT "lease_expires_at" > now() FROM "workflow_engine_instance" WHERE "id" = ?), false) AS "renewed",
               (SELECT count(*)::int FROM "workflow_engine_instance" WHERE "lease_expires_at" <= now()) AS "dead_instances",
               pg_notify(?, now()::text)::text AS "heartbeat"`,
    [
      instance.id,
      instance.hostname,
      instance.pid,
      instance.worker_mode,
      leaseMs,
      instance.id,
      heartbeatChannel(instance.id),
    ]
  )
  const row = result.rows[0]
  return { renewed: !!row?.renewed, deadInstances: row?.dead_instances ?? 0 }
}
