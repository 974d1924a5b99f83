import { TestDatabaseUtils } from "@medusajs/test-utils"
import { loadModels, toMikroOrmEntities } from "@medusajs/framework/utils"
import path from "path"
import { MIGRATIONS_PATH, MODULE_PATH } from "../../modules/__fixtures__/engine"

/** Runs the module's migrations on a database, as moduleIntegrationTestRunner does before each test. */
export async function migrateDatabase(clientUrl: string): Promise<void> {
  const wrapper = TestDatabaseUtils.getMikroOrmWrapper({
    mikroOrmEntities: toMikroOrmEntities(
      loadModels(path.join(MODULE_PATH, "models"))
    ),
    pathToMigrations: MIGRATIONS_PATH,
    clientUrl,
    schema: "public",
  })
  await wrapper.setupDatabase()
  await wrapper.getOrm().close()
}
