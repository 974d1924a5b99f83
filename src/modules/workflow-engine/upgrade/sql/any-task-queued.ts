import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { UPGRADE_TASK_TABLE } from "../upgrade-tasks"

/**
 * Whether the migrations left anything to the online upgrade, read on the
 * module's pool at start: false on a fresh install and once the upgrade is
 * done, and then no upgrade session is opened. False too before our
 * migrations ran (no task table).
 */
export async function anyTaskQueued(db: Knex): Promise<boolean> {
  const { rows } = await db.raw(
    `SELECT to_regclass(?) IS NOT NULL AS present`,
    [UPGRADE_TASK_TABLE]
  )
  if (!rows[0].present) {
    return false
  }
  const queued = await db.raw(`SELECT EXISTS (SELECT 1 FROM ??) AS queued`, [
    UPGRADE_TASK_TABLE,
  ])
  return queued.rows[0].queued
}
