/**
 * Storage report benchmark: what GET /admin/workflow-engine/storage costs on
 * the 1,000,000 executions of the scale benchmark (the same database, built
 * or kept by it), through the module's retrieveExecutionStorage, and each of
 * its statements on its own.
 *
 *   npm run bench -- storage     BENCH_ROWS (default 1,000,000), BENCH_CALLS (20)
 */
import { Knex } from "@medusajs/framework/mikro-orm/knex"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import { initModules } from "@medusajs/test-utils"
import { ENGINES, prepare } from "./scale"
import { databaseUrl, median, table } from "./support"

const CALLS = Number(process.env.BENCH_CALLS ?? 20)

type Statement = { sql: string; bindings: unknown[] }

export async function run(): Promise<void> {
  await prepare("ours")
  const { medusaApp, shutdown } = await initModules({
    databaseConfig: {
      clientUrl: databaseUrl(ENGINES.ours.database),
      schema: "public",
    },
    modulesConfig: {
      [Modules.WORKFLOW_ENGINE]: { resolve: ENGINES.ours.resolve, options: {} },
    },
    injectedDependencies: {
      logger: { ...console, info() {}, debug() {}, warn() {} },
    },
  })
  const service: any = medusaApp.modules[Modules.WORKFLOW_ENGINE]
  const db: Knex = medusaApp.sharedContainer!.resolve(
    ContainerRegistrationKeys.PG_CONNECTION
  )
  let statements: Statement[] = []
  const record = (query: Statement) =>
    statements.push({ sql: query.sql, bindings: query.bindings })
  db.on("query", record)

  try {
    const ms: number[] = []
    let report: any
    // Two calls warm the module's caches and the pages the report reads.
    for (let call = -2; call < CALLS; call++) {
      statements = []
      const started = performance.now()
      report = await service.retrieveExecutionStorage()
      if (call >= 0) {
        ms.push(performance.now() - started)
      }
    }
    // The statements of the last call; the replays below are not recorded.
    const recorded = statements
    db.removeListener("query", record)
    console.log(
      `\nretrieveExecutionStorage on ${report.total_executions.toLocaleString("en")} executions: ` +
        `median ${median(ms).toFixed(2)} ms of ${CALLS} calls (min ${Math.min(...ms).toFixed(2)}, max ${Math.max(...ms).toFixed(2)}), ` +
        `${recorded.length} statements (run concurrently), ${report.groups.length} (workflow, state) groups, ` +
        `expired ${report.expired.capped ? "≥ " : ""}${report.expired.executions}, kept forever ${report.kept_forever}, ` +
        `table ${report.sizes.total_bytes} bytes, estimated ${report.workflows.reduce((sum: number, w: any) => sum + (w.estimated_bytes ?? 0), 0)} bytes of rows\n`
    )

    const rows: (string | number)[][] = []
    for (const statement of recorded) {
      // The recorded SQL has the driver's $n placeholders; knex.raw takes ?.
      const sql = statement.sql.replace(/\$\d+/g, "?")
      const each: number[] = []
      for (let call = 0; call < CALLS; call++) {
        const started = performance.now()
        await db.raw(sql, statement.bindings as any)
        each.push(performance.now() - started)
      }
      rows.push([describe(statement.sql), median(each).toFixed(2)])
    }
    console.log(table(["statement (alone)", "median ms"], rows))
  } finally {
    await shutdown()
  }
}

function describe(sql: string): string {
  const compact = sql.replace(/\s+/g, " ").trim()
  const from = compact.match(/FROM "?(\w+)"?/i)?.[1] ?? ""
  return `${compact.slice(0, 60)}… (${from})`.replace(/\|/g, "\\|")
}
