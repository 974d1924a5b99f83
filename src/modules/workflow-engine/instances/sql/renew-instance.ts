import { Queryable } from "../../storage/sql/types"

export type InstanceRow = { id: string; hostname: string; pid: number; worker_mode: string }

/**
 * Creates or renews this instance's lease. Returns false when the row was
 * gone and had to be created again: another instance judged this one dead
 * (a long pause, a cut connection) and may have taken over its work.
 */
export async function renewInstance(db: Queryable, instance: InstanceRow, leaseMs: number): Promise<boolean> {
  const result = await db.raw(
    `INSERT INTO "workflow_engine_instance" ("id", "hostname", "pid", "worker_mode", "lease_expires_at")
     VALUES (?, ?, ?, ?, now() + make_interval(secs => ? / 1000.0))
     ON CONFLICT ("id") DO UPDATE SET "lease_expires_at" = EXCLUDED."lease_expires_at"
     RETURNING (xmax = 0) AS "created"`,
    [instance.id, instance.hostname, instance.pid, instance.worker_mode, leaseMs]
  )
  return !result.rows[0]?.created
}
