/**
 * Scale benchmark: the queries the admin and API routes make, on 1,000,000
 * realistic executions, through this module and through Medusa's in-memory
 * engine module, each on its own database holding the same rows (each engine
 * with its own migrations, so each with its own indexes).
 *
 *   npm run bench -- scale      BENCH_ROWS (default 1,000,000), BENCH_CALLS (20) per query,
 *                               BENCH_ROUNDS (3) interleaved rounds;
 *                               BENCH_FRESH=1 rebuilds the databases; BENCH_EXPLAIN=1 prints
 *                               EXPLAIN ANALYZE of every statement of the last call;
 *                               BENCH_PART=resources builds (or keeps) only our database and runs
 *                               only the resource_id lookups (an order's runs, a customer's) with
 *                               their EXPLAIN (ANALYZE, BUFFERS), which the full run prints too
 *
 * The databases are kept between runs (filling them takes minutes) and rebuilt
 * when the row count or the generator changes; pending migrations of ours are
 * applied to the kept database, and how long they took is printed.
 */
import { knex, Knex } from "@medusajs/framework/mikro-orm/knex"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import { initModules } from "@medusajs/test-utils"
import { createHash } from "crypto"
import path from "path"
import { customerOf, generateRows, loadRows, orderOf } from "./scale-data"
import { runOnlineUpgrade } from "../src/modules/workflow-engine/upgrade/online-upgrade"
import { RESOURCE_IDS_BACKFILL } from "../src/modules/workflow-engine/upgrade/upgrade-tasks"
import {
  benchDatabase,
  databaseUrl,
  MEDUSA_MIGRATIONS,
  median,
  migrate,
  migrateOurs,
  table,
} from "./support"

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000)
const CALLS = Number(process.env.BENCH_CALLS ?? 20)
// Bump when scale-data.ts changes, so kept databases are rebuilt.
const GENERATOR_VERSION = "2"

export const ENGINES = {
  ours: {
    database: "medusa_wep_bench_scale_ours",
    resolve: path.join(__dirname, "../src/modules/workflow-engine"),
    // The rows' expiries are in the past: a scheduled purge pass would delete them between rounds.
    options: { purgeIntervalSeconds: 0 },
    hasExpiry: true,
  },
  "medusa in-memory": {
    database: "medusa_wep_bench_scale_medusa",
    resolve: "@medusajs/workflow-engine-inmemory",
    options: {},
    hasExpiry: false,
  },
}
export type EngineName = keyof typeof ENGINES

const ADMIN_LIST = {
  take: 20,
  skip: 0,
  order: { created_at: "DESC" },
  select: [
    "id",
    "workflow_id",
    "transaction_id",
    "state",
    "execution",
    "created_at",
    "updated_at",
    "deleted_at",
  ],
}

const transactionOf = (i: number) =>
  "auto-" +
  createHash("md5").update(`tx${i}`).digest("hex").slice(0, 26).toUpperCase()

const LOOKED_UP = transactionOf(Math.ceil(ROWS * 0.37))

type Call = "admin page" | "documented"

// Row numbers within the data set, so the values exist whatever BENCH_ROWS is.
const QUERIES: {
  name: string
  call: Call
  filters: Record<string, unknown>
}[] = [
  {
    name: "admin list page (newest 20 + count)",
    call: "admin page",
    filters: {},
  },
  {
    name: "{ workflow_id, state } (+ count)",
    call: "admin page",
    filters: { workflow_id: "create-order", state: "failed" },
  },
  {
    name: "{ transaction_id } (+ count)",
    call: "admin page",
    filters: { transaction_id: LOOKED_UP },
  },
  {
    name: "{ q: part of a transaction id } (+ count)",
    call: "admin page",
    filters: {
      q: transactionOf(Math.ceil(ROWS * 0.81))
        .slice(9, 19)
        .toLowerCase(),
    },
  },
  {
    name: "{ q: part of a workflow name } (+ count)",
    call: "admin page",
    filters: { q: "refund" },
  },
  // The call the "Store Workflow Executions" page tells a store to make from its routes: no config at all.
  {
    name: "listWorkflowExecutions({ transaction_id })",
    call: "documented",
    filters: { transaction_id: LOOKED_UP },
  },
]

/** The same lookup as the documented call, straight through the pool: the floor it is held against. */
const RAW_LOOKUP = `SELECT * FROM "workflow_execution" WHERE "transaction_id" = ? AND "deleted_at" IS NULL`

/** Builds (or keeps) the engine's database of ROWS executions. */
export async function prepare(name: EngineName): Promise<void> {
  const engine = ENGINES[name]
  const url = databaseUrl(engine.database)
  const admin = knex({ client: "pg", connection: databaseUrl("postgres") })
  const exists =
    (
      await admin.raw(`SELECT 1 FROM pg_database WHERE datname = ?`, [
        engine.database,
      ])
    ).rows.length > 0
  await admin.destroy()

  if (exists && !process.env.BENCH_FRESH) {
    const db = knex({ client: "pg", connection: url })
    try {
      const meta = await db
        .raw(`SELECT rows, version FROM bench_scale_meta`)
        .catch(() => ({ rows: [] }))
      if (
        meta.rows[0]?.rows === ROWS &&
        meta.rows[0]?.version === GENERATOR_VERSION
      ) {
        if (name === "ours") {
          const started = performance.now()
          await migrateOurs(url)
          console.log(
            `${name}: kept ${ROWS} rows; pending migrations took ${Math.round(performance.now() - started)} ms`
          )
        } else {
          console.log(`${name}: kept ${ROWS} rows`)
        }
        return
      }
    } finally {
      await db.destroy()
    }
  }

  const started = performance.now()
  const { db } = await benchDatabase(engine.database, { timezone: "UTC" })
  try {
    if (name === "ours") {
      await migrateOurs(url)
    } else {
      await migrate(url, MEDUSA_MIGRATIONS)
    }
    await generateRows(db, ROWS)
    await loadRows(db, engine.hasExpiry)
    await db.raw(`DROP TABLE bench_scale_rows`)
    if (name === "ours") {
      await backfillResourceIds(db, url)
    }
    // A table that has been live for a while: vacuumed, statistics known.
    await db.raw(`VACUUM ANALYZE workflow_execution`)
    await db.raw(
      `CREATE TABLE bench_scale_meta AS SELECT ?::int AS rows, ?::text AS version`,
      [ROWS, GENERATOR_VERSION]
    )
    const size = (
      await db.raw(
        `SELECT pg_size_pretty(pg_total_relation_size('workflow_execution')) AS size`
      )
    ).rows[0].size
    console.log(
      `${name}: loaded ${ROWS} rows (${size} with indexes) in ${Math.round((performance.now() - started) / 1000)} s`
    )
  } finally {
    await db.destroy()
  }
}

/**
 * The rows were copied in with SQL, as another engine writes them: their
 * resource_ids are filled by the online upgrade's back-fill, queued as the
 * migration queues it on a table with rows, timed.
 */
async function backfillResourceIds(db: Knex, url: string): Promise<void> {
  await db.raw(
    `INSERT INTO workflow_engine_upgrade_task (name) VALUES (?) ON CONFLICT DO NOTHING`,
    [RESOURCE_IDS_BACKFILL]
  )
  const upgrade = await runOnlineUpgrade(url, { wait: true })
  console.log(
    `ours: back-filled resource_ids of ${upgrade.rows} rows in ${upgrade.batches} batches, ${Math.round(upgrade.ms / 1000)} s`
  )
}

const RAW = "raw SQL of the documented lookup"

type Measured = {
  ms: number[]
  statements: number
  count: number
  rows: number
  sql: { sql: string; bindings: unknown[] }[]
}

async function measure(name: EngineName): Promise<Record<string, Measured>> {
  const engine = ENGINES[name]
  const { medusaApp, shutdown } = await initModules({
    databaseConfig: {
      clientUrl: databaseUrl(engine.database),
      schema: "public",
    },
    modulesConfig: {
      [Modules.WORKFLOW_ENGINE]: {
        resolve: engine.resolve,
        options: engine.options,
      },
    },
    injectedDependencies: {
      logger: { ...console, info() {}, debug() {}, warn() {} },
    },
  })
  const service: any = medusaApp.modules[Modules.WORKFLOW_ENGINE]
  const db: Knex = medusaApp.sharedContainer!.resolve(
    ContainerRegistrationKeys.PG_CONNECTION
  )
  let sql: { sql: string; bindings: unknown[] }[] = []
  db.on("query", (query: { sql: string; bindings: unknown[] }) =>
    sql.push({ sql: query.sql, bindings: query.bindings })
  )

  const results: Record<string, Measured> = {}
  try {
    for (const query of QUERIES) {
      const ms: number[] = []
      let last: [unknown[], number] = [[], 0]
      // Two calls warm the module's own caches (metadata, prepared plans) first.
      for (let call = -2; call < CALLS; call++) {
        sql = []
        const started = performance.now()
        last =
          query.call === "admin page"
            ? await service.listAndCountWorkflowExecutions(
                query.filters,
                ADMIN_LIST
              )
            : await service
                .listWorkflowExecutions(query.filters)
                .then((rows: unknown[]) => [rows, rows.length])
        if (call >= 0) {
          ms.push(performance.now() - started)
        }
      }
      results[query.name] = {
        ms,
        statements: sql.length,
        count: last[1],
        rows: last[0].length,
        sql,
      }
    }
    const raw: number[] = []
    for (let call = -2; call < CALLS; call++) {
      const started = performance.now()
      await db.raw(RAW_LOOKUP, [LOOKED_UP])
      if (call >= 0) {
        raw.push(performance.now() - started)
      }
    }
    results[RAW] = { ms: raw, statements: 1, count: 1, rows: 1, sql: [] }
  } finally {
    await shutdown()
  }
  return results
}

async function explain(
  name: EngineName,
  statements: { sql: string; bindings: unknown[] }[]
): Promise<void> {
  const db = knex({
    client: "pg",
    connection: databaseUrl(ENGINES[name].database),
  })
  try {
    for (const statement of statements) {
      // The recorded SQL has the driver's $n placeholders; knex.raw takes ?.
      const sql = statement.sql.replace(/\$\d+/g, "?")
      const plan = await db.raw(
        `EXPLAIN (ANALYZE, BUFFERS) ${sql}`,
        statement.bindings as any
      )
      console.log(
        `\n${name}: ${statement.sql}\n${plan.rows.map((r: any) => r["QUERY PLAN"]).join("\n")}`
      )
    }
  } finally {
    await db.destroy()
  }
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

export async function run(): Promise<void> {
  if (process.env.BENCH_PART === "resources") {
    await prepare("ours")
    await resourceLookups()
    return
  }
  const names = Object.keys(ENGINES) as EngineName[]
  for (const name of names) {
    await prepare(name)
  }

  // Rounds interleave the engines (one app each, booted per round); every cell is the median of the rounds' medians.
  const rounds = Object.fromEntries(
    names.map((name) => [name, [] as Record<string, Measured>[]])
  ) as Record<EngineName, Record<string, Measured>[]>
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 ? [...names].reverse() : names) {
      rounds[name].push(await measure(name))
    }
  }
  const msOf = (name: EngineName, query: string) =>
    median(rounds[name].map((round) => median(round[query].ms)))
  const results = Object.fromEntries(
    names.map((name) => [name, rounds[name][rounds[name].length - 1]])
  ) as Record<EngineName, Record<string, Measured>>

  const rows = QUERIES.map(({ name: query }) => {
    const ours = results.ours[query]
    const theirs = results["medusa in-memory"][query]
    if (ours.count !== theirs.count) {
      throw new Error(
        `${query}: ours counted ${ours.count}, Medusa's ${theirs.count}`
      )
    }
    const oursMs = msOf("ours", query)
    const theirsMs = msOf("medusa in-memory", query)
    return [
      query,
      ours.count,
      oursMs.toFixed(2),
      theirsMs.toFixed(2),
      ours.statements,
      theirs.statements,
      `${(theirsMs / oursMs).toFixed(1)}x`,
    ]
  })
  console.log(
    `\nAdmin and API queries on ${ROWS.toLocaleString("en")} executions, median of ${ROUNDS} interleaved rounds ` +
      `of ${CALLS} calls each\n`
  )
  console.log(
    table(
      [
        "query (admin: take 20, newest first)",
        "count",
        "ours ms",
        "Medusa ms",
        "ours SQL",
        "Medusa SQL",
        "ours faster by",
      ],
      rows
    )
  )
  const documented = "listWorkflowExecutions({ transaction_id })"
  const floor = msOf("ours", RAW)
  console.log(
    `\nThe documented lookup against its raw SQL through the same pool (${floor.toFixed(2)} ms): ` +
      `ours ${(msOf("ours", documented) / floor).toFixed(2)}x, Medusa ${(msOf("medusa in-memory", documented) / floor).toFixed(2)}x the floor`
  )

  if (process.env.BENCH_EXPLAIN) {
    for (const name of names) {
      for (const { name: query } of QUERIES) {
        console.log(`\n### ${name}: ${query}`)
        await explain(name, results[name][query].sql)
      }
    }
  }
  await resourceLookups()
}

/** An order's runs (4) and a customer's (~40), as the admin's widgets ask for them: the newest page and its total. */
const RESOURCE_LOOKUPS = [
  { name: "one order's runs", resource_id: orderOf(Math.ceil(ROWS * 0.37)) },
  {
    name: "one customer's runs",
    resource_id: customerOf(Math.ceil(ROWS * 0.37)),
  },
]
const WIDGET_PAGE = { take: 10, skip: 0, order: { created_at: "DESC" } }

/**
 * The resource_id filter on our database (Medusa's engines have none): the
 * widget's call timed, and each of its statements under EXPLAIN (ANALYZE,
 * BUFFERS), which must read IDX_workflow_execution_resource_ids and never
 * the whole table; a plan that does not is an error.
 */
async function resourceLookups(): Promise<void> {
  const engine = ENGINES.ours
  const { medusaApp, shutdown } = await initModules({
    databaseConfig: {
      clientUrl: databaseUrl(engine.database),
      schema: "public",
    },
    modulesConfig: {
      [Modules.WORKFLOW_ENGINE]: {
        resolve: engine.resolve,
        options: engine.options,
      },
    },
    injectedDependencies: {
      logger: { ...console, info() {}, debug() {}, warn() {} },
    },
  })
  const service: any = medusaApp.modules[Modules.WORKFLOW_ENGINE]
  const db: Knex = medusaApp.sharedContainer!.resolve(
    ContainerRegistrationKeys.PG_CONNECTION
  )
  let sql: { sql: string; bindings: unknown[] }[] = []
  db.on("query", (query: { sql: string; bindings: unknown[] }) =>
    sql.push({ sql: query.sql, bindings: query.bindings })
  )
  const rows: (string | number)[][] = []
  try {
    for (const lookup of RESOURCE_LOOKUPS) {
      const ms: number[] = []
      let last: [unknown[], number] = [[], 0]
      for (let call = -2; call < CALLS; call++) {
        sql = []
        const started = performance.now()
        last = await service.listAndCountWorkflowExecutions(
          { resource_id: lookup.resource_id },
          WIDGET_PAGE
        )
        if (call >= 0) {
          ms.push(performance.now() - started)
        }
      }
      const plans: string[] = []
      const statements = sql
      sql = []
      for (const statement of statements) {
        const plan = await db.raw(
          `EXPLAIN (ANALYZE, BUFFERS) ${statement.sql.replace(/\$\d+/g, "?")}`,
          statement.bindings as any
        )
        const text = plan.rows.map((r: any) => r["QUERY PLAN"]).join("\n")
        console.log(
          `\n### ours: ${lookup.name} (${lookup.resource_id})\n${statement.sql}\n${text}`
        )
        if (
          !text.includes("IDX_workflow_execution_resource_ids") ||
          /Seq Scan on workflow_execution/.test(text)
        ) {
          throw new Error(
            `${lookup.name}: the plan does not read the resource_ids index alone:\n${text}`
          )
        }
        plans.push(text)
      }
      const buffers = plans
        .map((text) => /Buffers: ([^\n]+)/.exec(text)?.[1] ?? "")
        .join("; ")
      rows.push([
        lookup.name,
        last[1],
        median(ms).toFixed(2),
        statements.length,
        buffers,
      ])
    }
  } finally {
    await shutdown()
  }
  console.log(
    `\nresource_id lookups on ${ROWS.toLocaleString("en")} executions (ours), median of ${CALLS} calls, take 10 newest first\n`
  )
  console.log(
    table(
      ["lookup", "count", "ours ms", "statements", "buffers (first plan line)"],
      rows
    )
  )
}
