import { TestDatabaseUtils } from "@medusajs/test-utils"
import fs from "fs"
import path from "path"
import { TEST_DATABASE, waitUntil } from "../modules/__fixtures__/engine"
import {
  dropDatabase,
  ensureDatabase,
  migrate,
  MIGRATION_DIRS,
  trigramsAvailable,
  withClient,
} from "../modules/__fixtures__/migrations/database"
import { insertMedusaRowsAtScale } from "../modules/__fixtures__/migrations/medusa-rows-at-scale"
import { APP, medusa, startMedusa } from "./__fixtures__/medusa-app"
import { PURGE_RESULT_MARKER } from "./app/src/scripts/purge-expired"

/*
 * A store that ran Medusa's engine for a while switches to this one: its
 * table holds Medusa-written runs, two thirds of them past their retention,
 * and `medusa db:migrate` (a whole Medusa app, ./app) leaves the heavy part
 * of our migrations to the online upgrade. Then an operator's `medusa exec`
 * script, a process that runs no background work, purges before anything
 * ran that upgrade; then the next instance that runs background work
 * finishes it, and the plugin's own script finishes what is queued later.
 *
 * 30,000 rows keep the suite's time: the same state as the 300,000 of
 * `npm run bench -- pending-upgrade` (BENCHMARKS.md), which times it.
 */

jest.setTimeout(10 * 60 * 1000)

const { getDatabaseURL } = TestDatabaseUtils
const DB = `medusa-wep-pending-upgrade-${TEST_DATABASE.slice("medusa-wep-test-".length)}`
const SEED = { rows: 30_000, expired: 20_000 }
const ALL_TASKS = [
  "backfill:count",
  "backfill:expires_at",
  "backfill:resource_ids",
  "backfill:retention_time",
  "index:IDX_workflow_execution_created_at",
  "index:IDX_workflow_execution_expires_at",
  "index:IDX_workflow_execution_in_flight_unique",
  "index:IDX_workflow_execution_kept_forever",
  "index:IDX_workflow_execution_missing_expiry",
  "index:IDX_workflow_execution_resource_ids",
  "index:IDX_workflow_execution_stuck_at",
  "index:IDX_workflow_execution_transaction_id_trgm",
  "index:IDX_workflow_execution_workflow_id_state_created_at",
]
/** The plugin's script, where a store's `npm install` puts it (the README's command). */
const FINISH_SCRIPT =
  "./node_modules/medusa-workflow-engine-postgres/.medusa/server/src/scripts/finish-workflow-engine-upgrade.js"
const PENDING_WARNING = "Workflow engine upgrade pending since"

const query = <T = any>(sql: string): Promise<T[]> =>
  withClient(DB, async (client) => (await client.query(sql)).rows)
const queuedTasks = async () =>
  (
    await query(`SELECT name FROM workflow_engine_upgrade_task ORDER BY name`)
  ).map((r) => r.name)
/** Of our deferred indexes, those that exist. */
const ourIndexes = async () =>
  (
    await query(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'workflow_execution' AND indexname IN (${ALL_TASKS.filter(
        (t) => t.startsWith("index:")
      )
        .map((t) => `'${t.slice("index:".length)}'`)
        .join(", ")}) ORDER BY indexname`
    )
  ).map((r) => r.indexname)
/** Which of the seed's rows are left, by row number (see insertMedusaRowsAtScale's ids). */
const rowsLeft = async () =>
  (
    await query<{ rows: number; first: number; last: number; expired: number }>(
      `SELECT count(*)::int AS rows, min(substr(id, 17)::int) AS first, max(substr(id, 17)::int) AS last,
              count(*) FILTER (WHERE substr(id, 17)::int <= ${SEED.expired})::int AS expired
         FROM workflow_execution`
    )
  )[0]

function resultOf(output: string) {
  const line = output.split("\n").find((l) => l.startsWith(PURGE_RESULT_MARKER))
  if (!line) {
    throw new Error(`The script printed no result:\n${output.slice(-8000)}`)
  }
  return JSON.parse(line.slice(PURGE_RESULT_MARKER.length))
}

beforeAll(async () => {
  await dropDatabase(DB)
  await ensureDatabase(DB)
  // The store's history: Medusa's engine's own migrations, then its runs.
  await migrate(DB, MIGRATION_DIRS.inmemory)
  await withClient(DB, async (client) => {
    await insertMedusaRowsAtScale(client, SEED)
    await client.query(`VACUUM ANALYZE workflow_execution`)
  })
  // The switch: the store's medusa-config now names this engine.
  await medusa(["db:migrate"], getDatabaseURL(DB))
})

afterAll(async () => {
  await dropDatabase(DB)
})

describe("a store that has just switched from Medusa's engine", () => {
  it("is left by `medusa db:migrate` with the whole upgrade pending: every task queued, no expiry filled in, none of our indexes built", async () => {
    expect(await queuedTasks()).toEqual(ALL_TASKS)
    expect(
      await query(
        `SELECT count(*)::int AS n FROM workflow_execution WHERE expires_at IS NOT NULL`
      )
    ).toEqual([{ n: 0 }])
    expect(await ourIndexes()).toEqual([])
    expect(await rowsLeft()).toEqual({
      rows: SEED.rows,
      first: 1,
      last: SEED.rows,
      expired: SEED.expired,
    })
  })

  it("purges from a `medusa exec` script exactly the expired finished runs, says the upgrade is pending and how to finish it, and leaves it pending", async () => {
    const output = await medusa(
      ["exec", "./src/scripts/purge-expired.ts"],
      getDatabaseURL(DB),
      { PURGE_BATCH_SIZE: "1000" }
    )

    // Said once, at start, with what is pending and the command that finishes it.
    const warnings = output
      .split("\n")
      .filter((line) => line.includes(PENDING_WARNING))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(
      "4 back-fills (count, expires_at, resource_ids, retention_time) and 9 index builds"
    )
    // Relative to where the store runs its commands; through this app's link, the repository's build.
    const command = /npx medusa exec ([^\s"]+)/.exec(warnings[0])![1]
    expect(fs.realpathSync(path.resolve(APP, command))).toBe(
      fs.realpathSync(path.resolve(APP, FINISH_SCRIPT))
    )

    const { before, preview, purge, after } = resultOf(output)
    const pending = { tasks: ALL_TASKS, queued_at: expect.any(String) }
    expect(before).toEqual(
      expect.objectContaining({
        total_executions: SEED.rows,
        expired: { executions: SEED.expired, capped: false },
        // Rows n % 4 = 2 past the expired ones: done without retention.
        kept_forever: (SEED.rows - SEED.expired) / 4,
        upgrade: pending,
      })
    )
    expect(preview).toEqual(
      expect.objectContaining({
        dry_run: true,
        deleted: 0,
        would_delete: SEED.expired,
      })
    )
    expect(purge).toEqual(
      expect.objectContaining({ dry_run: false, deleted: SEED.expired })
    )
    // In batches of at most the 1,000 asked for.
    expect(purge.batches).toBeGreaterThanOrEqual(SEED.expired / 1000)
    expect(after).toEqual(
      expect.objectContaining({
        total_executions: SEED.rows - SEED.expired,
        expired: { executions: 0, capped: false },
        upgrade: pending,
      })
    )

    // Exactly rows 1 to `expired` are gone: nothing in flight, unexpired or kept forever was touched.
    expect(await rowsLeft()).toEqual({
      rows: SEED.rows - SEED.expired,
      first: SEED.expired + 1,
      last: SEED.rows,
      expired: 0,
    })
    // The purge did none of the upgrade's work: nothing ran it in this process.
    expect(await queuedTasks()).toEqual(ALL_TASKS)
    expect(
      await query(
        `SELECT count(*)::int AS n FROM workflow_execution WHERE expires_at IS NOT NULL`
      )
    ).toEqual([{ n: 0 }])
    expect(await ourIndexes()).toEqual([])
  })

  it("is finished by the next instance that runs background work: `medusa start`, in the default shared mode", async () => {
    const instance = await startMedusa(getDatabaseURL(DB))
    try {
      await waitUntil(
        async () => (await queuedTasks()).length === 0,
        5 * 60 * 1000
      )
    } finally {
      await instance.stop()
    }
    expect(instance.output()).not.toContain(PENDING_WARNING)
    expect(instance.output()).toContain("Workflow engine upgrade finished")

    const trigrams = await trigramsAvailable(DB)
    expect(await ourIndexes()).toEqual(
      ALL_TASKS.filter(
        (t) => t.startsWith("index:") && (trigrams || !t.endsWith("_trgm"))
      ).map((t) => t.slice("index:".length))
    )
    // Every finished row with a retention got the expiry Medusa's engine would have given it.
    expect(
      await query(
        `SELECT count(*)::int AS missing FROM workflow_execution
          WHERE state IN ('done', 'failed', 'reverted') AND retention_time IS NOT NULL
            AND expires_at IS DISTINCT FROM updated_at + make_interval(secs => retention_time)`
      )
    ).toEqual([{ missing: 0 }])
  })

  it("finishes what is left from the plugin's `medusa exec` script, after which nothing is pending and no start warns", async () => {
    // What a build cut short leaves, and the expiry back-fill queued again (a migration run anew).
    await query(`DROP INDEX "IDX_workflow_execution_kept_forever"`)
    await query(
      `INSERT INTO workflow_engine_upgrade_task (name) VALUES ('backfill:expires_at'), ('index:IDX_workflow_execution_kept_forever')`
    )
    const finished = await medusa(["exec", FINISH_SCRIPT], getDatabaseURL(DB))
    expect(finished).toContain(
      "Workflow engine upgrade finished backfill:expires_at, index:IDX_workflow_execution_kept_forever"
    )
    expect(await queuedTasks()).toEqual([])
    expect(await ourIndexes()).toContain("IDX_workflow_execution_kept_forever")

    const output = await medusa(
      ["exec", "./src/scripts/purge-expired.ts"],
      getDatabaseURL(DB)
    )
    expect(output).not.toContain(PENDING_WARNING)
    const { before, purge } = resultOf(output)
    expect(before).toEqual(
      expect.objectContaining({
        total_executions: SEED.rows - SEED.expired,
        expired: { executions: 0, capped: false },
        upgrade: null,
      })
    )
    expect(purge.deleted).toBe(0)
    expect(await rowsLeft()).toEqual({
      rows: SEED.rows - SEED.expired,
      first: SEED.expired + 1,
      last: SEED.rows,
      expired: 0,
    })
  })
})
