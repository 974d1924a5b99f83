import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { UPGRADE_TASK_TABLE } from "../upgrade-tasks"

/** A piece of work a migration left to the online upgrade (see upgrade-tasks.ts). */
export type QueuedTask = { name: string; queued_at: Date }

/**
 * What the online upgrade has still to do, oldest first, read on the module's
 * pool; nothing before our migrations ran (no task table).
 */
export async function queuedTasks(db: Knex): Promise<QueuedTask[]> {
  const { rows } = await db.raw(
    `SELECT to_regclass(?) IS NOT NULL AS present`,
    [UPGRADE_TASK_TABLE]
  )
  if (!rows[0].present) {
    return []
  }
  const queued = await db.raw(
    `SELECT "name", "queued_at" FROM ?? ORDER BY "queued_at", "name"`,
    [UPGRADE_TASK_TABLE]
  )
  return queued.rows
}
