import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { MedusaError, Modules } from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import fc from "fast-check"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  withEngineShutdown,
} from "./__fixtures__/engine"
import {
  config as configs,
  filters as filterSets,
  Gen,
  ROWS,
} from "./__fixtures__/filter-cases"
import {
  KINDS,
  referenceFilter,
  Row,
  TextOrder,
} from "./__fixtures__/reference-filter"

jest.setTimeout(120000)

/*
 * Random filters thrown at listAndCountWorkflowExecutions: every answer is
 * either an INVALID_DATA error naming one of the fields the case got wrong,
 * or exactly the rows (in order, when an order is given) and the count the
 * reference filter picks from the same rows. A failure prints fast-check's
 * seed and path; FILTER_PROPERTY_SEED=<seed> FILTER_PROPERTY_PATH=<path>
 * replays it, FILTER_PROPERTY_RUNS=<n> runs more cases.
 */
const RUNS = Number(process.env.FILTER_PROPERTY_RUNS ?? 300)
const SEED = process.env.FILTER_PROPERTY_SEED
  ? Number(process.env.FILTER_PROPERTY_SEED)
  : undefined
const PATH = process.env.FILTER_PROPERTY_PATH

async function seed(db: Knex, rows: Row[]): Promise<void> {
  for (const row of rows) {
    await db.raw(
      `INSERT INTO workflow_execution
         (id, workflow_id, transaction_id, run_id, state, execution, context, retention_time, expires_at, created_at, updated_at, deleted_at, resource_ids)
       VALUES (?, ?, ?, ?, ?, '{}'::jsonb, '{"data":{},"errors":[]}'::jsonb, ?, ?, ?, ?, ?, ?::text[])`,
      [
        row.id,
        row.workflow_id,
        row.transaction_id,
        row.run_id,
        row.state,
        row.retention_time,
        row.expires_at,
        row.created_at,
        row.updated_at,
        row.deleted_at,
        row.resource_ids,
      ]
    )
  }
}

/** The database's order of the given strings, as a comparison (its collation decides, not JavaScript). */
async function textOrderOf(db: Knex, strings: string[]): Promise<TextOrder> {
  const { rows } = await db.raw(
    `SELECT array_agg(s ORDER BY s) AS sorted FROM unnest(?::text[]) AS s`,
    [[...new Set(strings)]]
  )
  const rank = new Map<string, number>(
    (rows[0].sorted ?? []).map((s: string, i: number) => [s, i])
  )
  return (a, b) => rank.get(a)! - rank.get(b)!
}

/** Every string a case compares text with by order ($gt & co.), beside the rows' own values. */
function rangeOperands(filters: unknown, out: string[] = []): string[] {
  if (Array.isArray(filters)) {
    filters.forEach((inner) => rangeOperands(inner, out))
  } else if (
    typeof filters === "object" &&
    filters !== null &&
    !(filters instanceof Date)
  ) {
    for (const [key, value] of Object.entries(filters)) {
      if (
        ["$gt", "$gte", "$lt", "$lte"].includes(key) &&
        typeof value === "string"
      ) {
        out.push(value)
      } else {
        rangeOperands(value, out)
      }
    }
  }
  return out
}

/** A value as text, Dates (valid or not) and non-finite numbers included, to tell whether it changed. */
function snapshot(value: unknown): string {
  return JSON.stringify(
    value,
    function (this: Record<string, unknown>, key, json) {
      const raw = this[key]
      return raw instanceof Date
        ? `Date(${raw.getTime()})`
        : typeof raw === "number" && !isFinite(raw)
          ? String(raw)
          : json
    }
  )
}

function expectedPage(rows: Row[], config: Record<string, any>): Row[] {
  const [[column, direction] = []] = Object.entries(config.order ?? {}) as [
    keyof Row,
    string,
  ][]
  const sorted = column
    ? [...rows].sort((a, b) => {
        const [x, y] = [a[column], b[column]] as [string | Date, string | Date]
        const order = x < y ? -1 : x > y ? 1 : 0
        return direction?.toUpperCase() === "DESC" ? -order : order
      })
    : rows
  const skip = config.skip ?? 0
  return sorted.slice(
    skip,
    config.take === undefined || config.take === null
      ? undefined
      : skip + config.take
  )
}

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    /** Throws RUNS random list calls at the engine and holds every answer to the reference. */
    async function holdsToTheReference(db: Knex): Promise<void> {
      await seed(db, ROWS)
      const ids = (rows: { id: string }[]) => rows.map((row) => row.id)
      const textValues = ROWS.flatMap((row) =>
        Object.keys(KINDS)
          .map((key) => row[key as keyof Row])
          .filter((v): v is string => typeof v === "string")
      )
      const counts = {
        answered: 0,
        refused: 0,
        matchedSome: 0,
        byResourceMatchedSome: 0,
      }
      await fc.assert(
        fc.asyncProperty(
          filterSets,
          configs,
          async (filtersCase: Gen, configCase: Gen) => {
            const filters = filtersCase.value as any
            const config = configCase.value as Record<string, any>
            const invalid = [...filtersCase.invalid, ...configCase.invalid]
            const given = snapshot({ filters, config })
            const outcome = await engine
              .listAndCountWorkflowExecutions(filters, config)
              .then(
                (answer) => ({ answer }),
                (error) => ({ error })
              )
            // The caller's objects are theirs: the engine reads them and leaves them as they were.
            expect(snapshot({ filters, config })).toBe(given)

            if ("error" in outcome) {
              const error = outcome.error
              if (
                !(error instanceof MedusaError) ||
                error.type !== MedusaError.Types.INVALID_DATA ||
                !invalid.length
              ) {
                throw new Error(
                  `expected ${invalid.length ? "INVALID_DATA" : "an answer"}, got ${error?.type ?? ""} ${error?.stack ?? error}`
                )
              }
              if (
                !invalid.some((path) => error.message.includes(`"${path}"`))
              ) {
                throw new Error(
                  `the error names none of ${JSON.stringify(invalid)}: ${error.message}`
                )
              }
              counts.refused++
              return
            }
            if (invalid.length) {
              throw new Error(
                `expected INVALID_DATA naming one of ${JSON.stringify(invalid)}, got an answer`
              )
            }

            const order = await textOrderOf(db, [
              ...textValues,
              ...rangeOperands(filters),
            ])
            const picked = referenceFilter(
              ROWS,
              filters ?? {},
              config.withDeleted === true,
              order
            )
            const [rows, count] = outcome.answer
            expect(count).toBe(picked.length)
            if (config.order) {
              expect(ids(rows)).toEqual(ids(expectedPage(picked, config)))
            } else {
              // Without an order a page may hold any of the picked rows.
              expect(rows).toHaveLength(expectedPage(picked, config).length)
              expect(ids(picked)).toEqual(expect.arrayContaining(ids(rows)))
            }
            counts.answered++
            counts.matchedSome +=
              picked.length > 0 && picked.length < ROWS.length ? 1 : 0
            counts.byResourceMatchedSome +=
              filters?.resource_id !== undefined && picked.length > 0 ? 1 : 0
          }
        ),
        {
          numRuns: RUNS,
          seed: SEED,
          path: PATH,
          endOnFailure: PATH !== undefined,
        }
      )

      console.info(
        `filter property: ${JSON.stringify(counts)} of ${RUNS} cases`
      )
      // The cases reach both sides of the property, and answers that pick some rows and leave others.
      expect(counts.answered).toBeGreaterThan(RUNS / 5)
      expect(counts.refused).toBeGreaterThan(RUNS / 5)
      expect(counts.matchedSome).toBeGreaterThan(RUNS / 20)
      // Resource ids are a small share of the random cases (seen 5 to 15 in 300); a couple suffice to show they are reached.
      expect(counts.byResourceMatchedSome).toBeGreaterThan(RUNS / 300)
    }

    it("answers random filters with an INVALID_DATA naming a wrong field, or exactly the reference's rows and count", async () => {
      await holdsToTheReference(knexOf(medusaApp))
    })

    it("answers them alike without the trigram index, where q finds transaction ids by reading the table first", async () => {
      const db = knexOf(medusaApp)
      await db.raw(`DROP INDEX "IDX_workflow_execution_transaction_id_trgm"`)
      await holdsToTheReference(db)
    })
  }),
})
