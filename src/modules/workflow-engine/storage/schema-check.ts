import { Logger } from "@medusajs/framework/types"
import { EntitySchema } from "@medusajs/framework/mikro-orm/core"
import { DmlEntity } from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import * as models from "../models"
import {
  COUNT_TRIGGERS,
  ENABLED_COUNT_TRIGGERS_SQL,
} from "./sql/count-triggers"
import {
  IN_FLIGHT_GUARD_INDEX,
  lacksInFlightGuard,
} from "./sql/lacks-in-flight-guard"
import { missingColumns } from "./sql/missing-columns"

/** Every table the models declare, with its columns: what the engine reads and writes. */
export function modelColumns(): Record<string, string[]> {
  const tables: Record<string, string[]> = {}
  for (const model of Object.values(models) as unknown[]) {
    if (model instanceof EntitySchema) {
      tables[model.meta.tableName] = Object.keys(model.meta.properties)
    } else if (DmlEntity.isDmlEntity(model)) {
      const { tableName, schema } = model.parse()
      tables[tableName] = Object.keys(schema)
    }
  }
  return tables
}

/**
 * Says at start, once and plainly, what the database lacks for the engine,
 * instead of an obscure failure later: tables or columns the migrations add
 * (they have not run: every stored run would fail at its first save, and
 * the background work on its first query), the triggers that keep the
 * counts (a schema built from the models, as Medusa's module test runner
 * builds it: lists count their rows instead), or the in-flight guard.
 * Returns false when the engine cannot work on this schema at all.
 */
export async function checkSchema(db: Knex, logger: Logger): Promise<boolean> {
  try {
    return await check(db, logger)
  } catch (error) {
    // The start goes on, and says what fails next.
    logger.error(
      `Workflow engine: could not check the database schema at start: ${error}`
    )
    return true
  }
}

async function check(db: Knex, logger: Logger): Promise<boolean> {
  const missing = await missingColumns(db, modelColumns())
  if (missing.length) {
    logger.error(
      `Workflow engine: the database lacks ${missing.join(", ")}: this module's migrations have not run on it. ` +
        "Run `npx medusa db:migrate`. Until then no stored workflow can be saved, and no timer, schedule or " +
        "recovery runs on this instance. (Under Medusa's module test runner: `resolve` is the module's folder, " +
        "whose models/ it builds the schema from, or give it `pathToMigrations`.)"
    )
    return false
  }
  const { rows } = await db.raw(
    `SELECT ${ENABLED_COUNT_TRIGGERS_SQL} AS triggers`
  )
  if (rows[0].triggers < COUNT_TRIGGERS.length) {
    logger.warn(
      "Workflow engine: workflow_execution has no counting triggers, so its schema was not made by this " +
        "module's migrations (Medusa's module test runner builds it from the models). Workflows run as usual; " +
        "list totals and the storage report count rows instead of reading the counters. A store runs " +
        "`npx medusa db:migrate`."
    )
  }
  if (await lacksInFlightGuard(db)) {
    logger.warn(
      `workflow_execution has no ${IN_FLIGHT_GUARD_INDEX}: two starts of one transaction id are not ` +
        `kept apart by the database. The migration skipped it because the table holds several in-flight ` +
        `runs of one transaction; remove those and run "npx medusa db:migrate" again after deleting ` +
        `Migration20261125120000 from mikro_orm_migrations, or create the index by hand (see the migration).`
    )
  }
  return true
}
