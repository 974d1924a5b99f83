import { createHash } from "crypto"
import fs from "fs"
import path from "path"
import { FINISH_COUNTING_SQL } from "../../src/modules/workflow-engine/upgrade/count-trigger-functions"
import { backfillExpirySql } from "../../src/modules/workflow-engine/upgrade/sql/backfill-expiry-batch"
import { backfillRetentionSql } from "../../src/modules/workflow-engine/upgrade/sql/backfill-retention-batch"
import { DEFERRED_INDEXES } from "../../src/modules/workflow-engine/upgrade/deferred-indexes"
import {
  COUNT_BACKFILL,
  EXPIRY_BACKFILL,
  indexTask,
  RESOURCE_IDS_BACKFILL,
  RETENTION_BACKFILL,
} from "../../src/modules/workflow-engine/upgrade/upgrade-tasks"
import {
  COUNTED_THROUGH_FUNCTION,
  PLAIN_COUNT_FUNCTIONS_SQL,
} from "../../src/modules/workflow-engine/migrations/frozen/Migration20261126090000-count-functions"
import { MIGRATIONS_PATH } from "./__fixtures__/engine"

/*
 * A released migration is history: stores ran its SQL, and editing it (or
 * code it imports) changes what the next store runs under the same name.
 * So a migration imports nothing but Medusa's framework and its frozen
 * copies beside it (migrations/frozen/), which live code never imports, and
 * its SQL stays what was released. The online upgrade (upgrade/) keeps its
 * own definitions, and is held here to the names and SQL the migrations queue.
 * No database: this reads the files and the SQL the migrations add.
 */

const SOURCE_ROOT = path.join(__dirname, "../../src")
const FROZEN_PATH = path.join(MIGRATIONS_PATH, "frozen")

/**
 * Whitespace-free SHA-256 (first 16 hex digits) of the SQL each released
 * migration adds in up() and then down(). A migration is released once it is
 * on main: add its line then, and never change one.
 */
const RELEASED_SQL: Record<string, string> = {
  Migration20261125120000: "669ab98e61c2b4d2",
  Migration20261125140000: "295ad85a775b8e63",
  Migration20261126090000: "c4b99955069d4cec",
  Migration20261201200000: "2270c23005a6c525",
  Migration20261201210000: "612b1e88aa956bb9",
  Migration20261202090000: "d9f180dd38833b2c",
  Migration20261206100000: "3507baea4573629c",
  Migration20261206120000: "b005768aa3c00eeb",
  Migration20261206130000: "9cec4a41330e7867",
  Migration20261206140000: "3a267fda114d06ca",
  Migration20261207100000: "e370debb0d727908",
  Migration20261207110000: "e0081a3965117c06",
  Migration20261207120000: "9145e5d4d6c93e73",
}

function sourceFiles(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(directory, entry.name)
    return entry.isDirectory()
      ? sourceFiles(file)
      : /\.tsx?$/.test(entry.name)
        ? [file]
        : []
  })
}

/** What a file imports, re-exports or requires, as written. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, "utf8")
  const patterns = [
    /\bfrom\s+["']([^"']+)["']/g,
    /\bimport\s+["']([^"']+)["']/g,
    /\b(?:import|require)\(\s*["']([^"']+)["']\s*\)/g,
  ]
  return patterns.flatMap((pattern) =>
    [...text.matchAll(pattern)].map((match) => match[1])
  )
}

const isFramework = (specifier: string) =>
  /^@medusajs\/framework(\/|$)/.test(specifier)
const isWithin = (directory: string, file: string) =>
  !path.relative(directory, file).startsWith("..")

const migrationFiles = () =>
  fs
    .readdirSync(MIGRATIONS_PATH)
    .filter((file) => /^Migration\d+\.ts$/.test(file))
    .sort()

/** The SQL a migration adds in `method`, as MikroORM's migrator collects it. */
async function sqlOf(file: string, method: "up" | "down"): Promise<string[]> {
  const MigrationClass = Object.values(
    require(path.join(MIGRATIONS_PATH, file))
  ).find((value) => typeof value === "function") as any
  const migration = new MigrationClass(undefined, undefined)
  await migration[method]()
  return migration.getQueries()
}

const squeezed = (sql: string) => sql.replace(/\s+/g, " ").trim()

describe("the released migrations", () => {
  it("import only Medusa's framework and their frozen copies", () => {
    const found = migrationFiles().flatMap((file) =>
      importsOf(path.join(MIGRATIONS_PATH, file))
        .filter(
          (specifier) =>
            !isFramework(specifier) && !specifier.startsWith("./frozen/")
        )
        .map((specifier) => `${file}: ${specifier}`)
    )
    expect(found).toEqual([])
  })

  it("have frozen copies that import nothing but Medusa's framework and each other", () => {
    const found = sourceFiles(FROZEN_PATH).flatMap((file) =>
      importsOf(file)
        .filter(
          (specifier) => !isFramework(specifier) && !specifier.startsWith("./")
        )
        .map(
          (specifier) => `${path.relative(MIGRATIONS_PATH, file)}: ${specifier}`
        )
    )
    expect(found).toEqual([])
  })

  it("are imported by no live code", () => {
    const found = sourceFiles(SOURCE_ROOT)
      .filter((file) => !isWithin(MIGRATIONS_PATH, file))
      .flatMap((file) =>
        importsOf(file)
          .filter(
            (specifier) =>
              specifier.startsWith(".") &&
              isWithin(
                MIGRATIONS_PATH,
                path.resolve(path.dirname(file), specifier)
              )
          )
          .map(
            (specifier) => `${path.relative(SOURCE_ROOT, file)}: ${specifier}`
          )
      )
    expect(found).toEqual([])
  })

  it("add the SQL they were released with, in up() and down()", async () => {
    const fingerprints: Record<string, string> = {}
    for (const file of migrationFiles()) {
      const sql = [
        ...(await sqlOf(file, "up")),
        "-- down",
        ...(await sqlOf(file, "down")),
      ]
        .map(squeezed)
        .join("\n")
      fingerprints[file.replace(/\.ts$/, "")] = createHash("sha256")
        .update(sql)
        .digest("hex")
        .slice(0, 16)
    }
    expect(fingerprints).toEqual(RELEASED_SQL)
  })
})

describe("the online upgrade, against what the migrations queue", () => {
  /** Each index a migration queues, with what that migration builds itself on a small table. */
  async function queuedIndexes(): Promise<
    { migration: string; name: string; inline: string }[]
  > {
    const found: { migration: string; name: string; inline: string }[] = []
    for (const file of migrationFiles()) {
      const sql = (await sqlOf(file, "up")).join("\n")
      for (const [, names] of sql.matchAll(
        /INSERT INTO "workflow_engine_upgrade_task" \("name"\) VALUES ([^;]+?) ON CONFLICT/g
      )) {
        for (const [, name] of names.matchAll(/'index:([^']+)'/g)) {
          const create = new RegExp(
            `(CREATE (?:UNIQUE )?INDEX IF NOT EXISTS "${name}" ON "workflow_execution" .+?)(;|',\\s*$)`,
            "m"
          ).exec(sql)
          found.push({
            migration: file,
            name,
            inline: create?.[1] ?? "(not built by the migration)",
          })
        }
      }
    }
    return found
  }

  it("knows every task a migration queues", async () => {
    const known = [
      RETENTION_BACKFILL,
      EXPIRY_BACKFILL,
      COUNT_BACKFILL,
      RESOURCE_IDS_BACKFILL,
      ...Object.keys(DEFERRED_INDEXES).map(indexTask),
    ]
    const queued: string[] = []
    for (const file of migrationFiles()) {
      const sql = (await sqlOf(file, "up")).join("\n")
      for (const [, names] of sql.matchAll(
        /INSERT INTO "workflow_engine_upgrade_task" \("name"\) VALUES ([^;]+?) ON CONFLICT/g
      )) {
        queued.push(
          ...[...names.matchAll(/'([^']+)'/g)].map(([, name]) => name)
        )
      }
    }
    expect(queued.length).toBeGreaterThan(0)
    expect(queued.filter((name) => !known.includes(name))).toEqual([])
  })

  it("fills each back-fill's rows as the migration that queued it fills a small table's", async () => {
    for (const [task, online] of [
      [RETENTION_BACKFILL, backfillRetentionSql("true")],
      [EXPIRY_BACKFILL, backfillExpirySql("true")],
    ]) {
      const queuing: { migration: string; sql: string }[] = []
      for (const file of migrationFiles()) {
        const sql = (await sqlOf(file, "up")).join("\n")
        if (sql.includes(`'${task}'`)) {
          queuing.push({
            migration: file,
            sql: squeezed(
              /UPDATE "workflow_execution"[^;]+;/.exec(sql)?.[0] ??
                "(no back-fill)"
            ),
          })
        }
      }
      expect(queuing).toHaveLength(1)
      expect({
        migration: queuing[0].migration,
        sql: squeezed(`${online};`),
      }).toEqual(queuing[0])
    }
  })

  it("leave the resource_ids back-fill to the online upgrade, whose prefixes are the one table's (no migration spells one)", async () => {
    const queuing: string[] = []
    for (const file of migrationFiles()) {
      const sql = (await sqlOf(file, "up")).join("\n")
      if (sql.includes(`'${RESOURCE_IDS_BACKFILL}'`)) {
        queuing.push(file)
      }
      expect({ file, fills: /SET "resource_ids"/.test(sql) }).toEqual({
        file,
        fills: false,
      })
    }
    expect(queuing).toEqual(["Migration20261207110000.ts"])
  })

  it("builds each queued index as the migration that queued it builds it on a small table", async () => {
    const indexes = await queuedIndexes()
    expect(indexes.map(({ name }) => name).sort()).toEqual(
      Object.keys(DEFERRED_INDEXES).sort()
    )
    for (const { migration, name, inline } of indexes) {
      const definition = DEFERRED_INDEXES[name]
      // The trigram index's migration names pg_trgm's schema at run time (format's %I): compare with one.
      const built = `CREATE ${definition.unique ? "UNIQUE " : ""}INDEX IF NOT EXISTS "${name}" ON "workflow_execution" ${definition.on("public")}`
      expect({ migration, name, sql: built }).toEqual({
        migration,
        name,
        sql: inline.replace("%I.", '"public".'),
      })
    }
  })

  it("ends the counting with the plain count functions the counting migration installs, dropping the bounded ones' reader", () => {
    const finishing = FINISH_COUNTING_SQL.map(squeezed)
    expect(
      PLAIN_COUNT_FUNCTIONS_SQL.map(squeezed).filter(
        (statement) => !finishing.includes(statement)
      )
    ).toEqual([])
    expect(finishing).toContain(
      `DROP FUNCTION IF EXISTS "${COUNTED_THROUGH_FUNCTION}"()`
    )
  })
})
