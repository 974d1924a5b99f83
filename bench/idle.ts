/**
 * Idle benchmark: the statements one engine instance sends while nothing
 * runs, with its default options (lease renewals, the timers' poll, the
 * schedules, the purge's schedule), over BENCH_IDLE_SECONDS after a
 * BENCH_SETTLE_SECONDS start-up that is counted apart. Counted twice:
 *   - in the process, on every pg client (knex's pooled connections and the
 *     LISTEN connection alike), by wrapping pg's Client#query;
 *   - by the server, in pg_stat_statements for the bench database, when the
 *     server loads it (shared_preload_libraries); otherwise left out.
 * BEGIN and COMMIT count as statements in both.
 *
 *   npm run bench -- idle        BENCH_IDLE_SECONDS (30), BENCH_SETTLE_SECONDS (5)
 */
import { Modules } from "@medusajs/framework/utils"
import { initModules } from "@medusajs/test-utils"
import path from "path"
import { Client } from "pg"
import {
  benchDatabase,
  countClientStatements,
  migrateOurs,
  table,
} from "./support"

const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30)
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 5)
const GOAL_PER_SECOND = 1
const DATABASE = "medusa_wep_bench_idle"

/** The server's own count, if pg_stat_statements is loaded; undefined otherwise. */
async function serverStatements(
  probe: Client
): Promise<
  | { reset: () => Promise<void>; read: () => Promise<Map<string, number>> }
  | undefined
> {
  try {
    await probe.query(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`)
    await probe.query(`SELECT 1 FROM pg_stat_statements LIMIT 1`)
  } catch (error) {
    console.log(
      `pg_stat_statements is not available (${(error as Error).message}); counting in the process only`
    )
    return undefined
  }
  return {
    reset: async () => {
      await probe.query(`SELECT pg_stat_statements_reset()`)
    },
    read: async () => {
      const { rows } = await probe.query(
        `SELECT query, calls::int FROM pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND query NOT ILIKE '%pg_stat_statements%'`
      )
      return new Map(
        rows.map((row) => [row.query as string, row.calls as number])
      )
    },
  }
}

const wait = (seconds: number) =>
  new Promise((resolve) => setTimeout(resolve, seconds * 1000))
const sum = (counts: Iterable<number>) =>
  [...counts].reduce((total, n) => total + n, 0)

function byStatement(statements: string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const sql of statements) {
    counts.set(sql, (counts.get(sql) ?? 0) + 1)
  }
  return counts
}

function describe(sql: string): string {
  return sql.replace(/\s+/g, " ").trim().slice(0, 90).replace(/\|/g, "\\|")
}

export async function run(): Promise<void> {
  const { url, db } = await benchDatabase(DATABASE)
  await db.destroy()
  await migrateOurs(url)

  const own = new WeakSet<object>()
  const probe = new Client({ connectionString: url })
  own.add(probe)
  await probe.connect()
  const server = await serverStatements(probe)
  const counter = countClientStatements(own)

  try {
    const { shutdown } = await initModules({
      databaseConfig: { clientUrl: url, schema: "public" },
      modulesConfig: {
        [Modules.WORKFLOW_ENGINE]: {
          resolve: path.join(__dirname, "../src/modules/workflow-engine"),
          options: {},
        },
      },
      injectedDependencies: {
        logger: { ...console, info() {}, debug() {}, warn() {} },
      },
    })
    try {
      await wait(SETTLE_SECONDS)
      const startUp = counter.take()
      await server?.reset()

      const began = performance.now()
      await wait(IDLE_SECONDS)
      const seconds = (performance.now() - began) / 1000
      const inProcess = byStatement(counter.take())
      const onServer = await server?.read()

      console.log(
        `\nOne idle instance, default options, ${seconds.toFixed(1)} s after a ${SETTLE_SECONDS} s start-up ` +
          `(${startUp.length} statements during start-up, not counted below)\n`
      )
      const rows: (string | number)[][] = [
        [
          "in the process (every pg client)",
          sum(inProcess.values()),
          (sum(inProcess.values()) / seconds).toFixed(2),
        ],
      ]
      if (onServer) {
        rows.push([
          "pg_stat_statements (the bench database)",
          sum(onServer.values()),
          (sum(onServer.values()) / seconds).toFixed(2),
        ])
      }
      console.log(table(["counted by", "statements", "per second"], rows))

      console.log("\nBy statement (in the process)\n")
      const statements = [...inProcess.entries()].sort((a, b) => b[1] - a[1])
      console.log(
        table(
          ["statement", "count", "per second"],
          statements.map(([sql, count]) => [
            describe(sql),
            count,
            (count / seconds).toFixed(2),
          ])
        )
      )

      const perSecond = sum((onServer ?? inProcess).values()) / seconds
      console.log(
        `\n- ${perSecond <= GOAL_PER_SECOND ? "met" : "MISSED"}: an idle instance sends at most about ` +
          `${GOAL_PER_SECOND} statement a second on average: ${perSecond.toFixed(2)}/s`
      )
    } finally {
      await shutdown()
    }
  } finally {
    counter.restore()
    await probe.end()
  }
}
