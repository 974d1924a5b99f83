import { moduleIntegrationTestRunner as medusaModuleRunner } from "@medusajs/test-utils"
import { compareVersions } from "../../../src/modules/workflow-engine/medusa-versions"
import { migrate, resetSchema } from "./migrations/database"

type RunnerOptions<TService> = Parameters<
  typeof medusaModuleRunner<TService>
>[0] & { pathToMigrations?: string }

const TEST_UTILS_VERSION: string =
  require("@medusajs/test-utils/package.json").version

/** Medusa's module runner applies `pathToMigrations` from 2.20 on; 2.19's ignores it and builds the schema from the models. */
const RUNNER_APPLIES_MIGRATIONS =
  compareVersions(TEST_UTILS_VERSION, "2.20.0") >= 0

/**
 * Medusa's `moduleIntegrationTestRunner`, with `pathToMigrations` meaning the
 * same on every supported Medusa: each test's schema is the one our
 * migrations make. On a runner that ignores the option, the schema it built
 * from the models is replaced by the migrations' before the module starts.
 * The one place the suites adapt to the Medusa they run on.
 */
export function moduleIntegrationTestRunner<TService = unknown>(
  options: RunnerOptions<TService>
): void {
  const { pathToMigrations, ...rest } = options
  if (!pathToMigrations || RUNNER_APPLIES_MIGRATIONS) {
    medusaModuleRunner<TService>(options)
    return
  }
  const database = rest.dbName!
  medusaModuleRunner<TService>({
    ...rest,
    hooks: {
      ...rest.hooks,
      beforeModuleInit: async () => {
        await resetSchema(database)
        await migrate(database, pathToMigrations, { online: false })
        await rest.hooks?.beforeModuleInit?.()
      },
    },
  })
}
