import { TestDatabaseUtils } from "@medusajs/test-utils"
import { loadModels, toMikroOrmEntities } from "@medusajs/framework/utils"
import path from "path"
import { Client } from "pg"
import { modelColumns } from "../../src/modules/workflow-engine/storage/schema-check"
import { COUNT_TRIGGERS } from "../../src/modules/workflow-engine/storage/sql/count-triggers"
import { MODULE_PATH, TEST_DATABASE } from "./__fixtures__/engine"
import {
  dropDatabase,
  ensureDatabase,
  migrate,
  MIGRATION_DIRS,
  resetSchema,
  tableNames,
  tableShape,
  TableShape,
  trigramsAvailable,
  withClient,
} from "./__fixtures__/migrations/database"

/*
 * The schema Medusa's module test runner builds from the models (when it is
 * given no migrations) next to the one our migrations build, on two databases
 * of the same server: the same tables, the same columns, the same primary
 * keys, and every index the migrations make. A column a migration adds and
 * no model declares fails every stored run under the runner; this is where
 * that shows first.
 */

jest.setTimeout(120000)

const { getDatabaseURL, getMikroOrmWrapper } = TestDatabaseUtils

// One pair per checkout, as TEST_DATABASE.
const SUFFIX = TEST_DATABASE.slice("medusa-wep-test-".length)
const MIGRATED = `medusa-wep-schema-migrated-${SUFFIX}`
const MODELLED = `medusa-wep-schema-modelled-${SUFFIX}`

/** The trigram index needs pg_trgm, which only a migration may create; without it `q` reads the table. */
const TRIGRAM_INDEX = "IDX_workflow_execution_transaction_id_trgm"

type Schema = Record<string, TableShape>

async function schemaOf(database: string): Promise<Schema> {
  return await withClient(database, async (client: Client) => {
    const tables = (await tableNames(client)).filter(
      (table) => table !== "mikro_orm_migrations"
    )
    return Object.fromEntries(
      await Promise.all(
        tables.map(async (table) => [table, await tableShape(client, table)])
      )
    )
  })
}

/** Builds the schema from the module's models exactly as the runner does without `pathToMigrations`. */
async function buildFromModels(database: string): Promise<void> {
  const wrapper = getMikroOrmWrapper({
    mikroOrmEntities: toMikroOrmEntities(
      loadModels(path.join(MODULE_PATH, "models"))
    ),
    clientUrl: getDatabaseURL(database),
    schema: "public",
  })
  await wrapper.setupDatabase()
  await wrapper.getOrm().close(true)
}

/*
 * Medusa's engines made the shared columns character varying, the models
 * say text; both read and write alike. Everything else must match.
 */
function comparable(columns: TableShape["columns"]) {
  return Object.fromEntries(
    Object.entries(columns).map(([name, column]) => [
      name,
      {
        ...column,
        type: column.type === "character varying" ? "text" : column.type,
      },
    ])
  )
}

/** An index as what it covers: unique or not, the method and the columns, without its name, order or predicate. */
function covers(definition: string): string {
  const [, unique, method, columns] = definition.match(
    /^CREATE (UNIQUE )?INDEX \S+ ON \S+ USING (\w+) \(([^)]*)\)/
  )!
  return `${unique ?? ""}${method} (${columns.replace(/ DESC/g, "")})`
}

/**
 * An index's predicate, without the `deleted_at IS NULL` that DML adds to
 * every partial index, nor the casts Postgres prints for character varying.
 */
function predicate(definition: string): string {
  const where = definition.match(/ WHERE (.*)$/)?.[1] ?? ""
  return where
    .replace(/::(text|character varying)(\[\])?/g, "")
    .replace(/\(/g, "")
    .replace(/\)/g, "")
    .split(" AND ")
    .filter((term) => term !== "deleted_at IS NULL")
    .sort()
    .join(" AND ")
}

let migrated: Schema
let modelled: Schema
let trigrams = false

beforeAll(async () => {
  for (const database of [MIGRATED, MODELLED]) {
    await ensureDatabase(database)
    await resetSchema(database)
  }
  trigrams = await trigramsAvailable(MIGRATED)
  await migrate(MIGRATED, MIGRATION_DIRS.ours)
  await buildFromModels(MODELLED)
  migrated = await schemaOf(MIGRATED)
  modelled = await schemaOf(MODELLED)
})

afterAll(async () => {
  await dropDatabase(MIGRATED)
  await dropDatabase(MODELLED)
})

describe("the schema built from the models", () => {
  it("has the tables the migrations make, and no other", () => {
    expect(Object.keys(modelled).sort()).toEqual(Object.keys(migrated).sort())
    expect(Object.keys(modelColumns()).sort()).toEqual(
      Object.keys(migrated).sort()
    )
  })

  it("has every column of every table, with its type, nullability and default", () => {
    for (const table of Object.keys(migrated)) {
      expect({ table, columns: comparable(modelled[table].columns) }).toEqual({
        table,
        columns: comparable(migrated[table].columns),
      })
      expect({ table, columns: modelColumns()[table].sort() }).toEqual({
        table,
        columns: Object.keys(migrated[table].columns).sort(),
      })
    }
  })

  it("has the same primary keys", () => {
    for (const table of Object.keys(migrated)) {
      expect({ table, primaryKey: modelled[table].primaryKey }).toEqual({
        table,
        primaryKey: migrated[table].primaryKey,
      })
    }
  })

  it("has every index the migrations make, by name, covering the same columns under the same predicate", () => {
    for (const [table, { indexes }] of Object.entries(migrated)) {
      for (const [name, definition] of Object.entries(indexes)) {
        if (name === TRIGRAM_INDEX) {
          continue
        }
        const modelledDefinition = modelled[table].indexes[name]
        expect({
          table,
          name,
          covers: modelledDefinition && covers(modelledDefinition),
        }).toEqual({
          table,
          name,
          covers: covers(definition),
        })
        expect({ table, name, where: predicate(modelledDefinition) }).toEqual({
          table,
          name,
          where: predicate(definition),
        })
      }
    }
    expect(
      Object.keys(migrated.workflow_execution.indexes).includes(TRIGRAM_INDEX)
    ).toBe(trigrams)
  })

  it("adds no index but the one DML puts on deleted_at of its tables (those with created_at, updated_at and deleted_at)", () => {
    const extra = Object.entries(modelled).flatMap(([table, { indexes }]) =>
      Object.keys(indexes)
        .filter((name) => !(name in migrated[table].indexes))
        .map((name) => `${table}.${name}`)
    )
    const dmlTables = Object.keys(migrated).filter(
      (table) => "deleted_at" in migrated[table].columns
    )
    expect(dmlTables).toContain("workflow_execution")
    expect(extra.sort()).toEqual(
      dmlTables.map((table) => `${table}.IDX_${table}_deleted_at`).sort()
    )
  })

  it("has none of the counting triggers, which only the migrations install", () => {
    expect(modelled.workflow_execution.triggers).toEqual({})
    expect(Object.keys(migrated.workflow_execution.triggers).sort()).toEqual(
      [...COUNT_TRIGGERS].sort()
    )
  })
})
