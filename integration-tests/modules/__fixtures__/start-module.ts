/**
 * Starts the module as a Medusa app starts it, in a process of its own, with
 * the options in MODULE_OPTIONS (JSON) on DATABASE_URL; prints "started" and
 * stops. A start that fails ends the process with code 1 and the error on
 * stderr, as an app's would: Medusa leaves the failed start's promise
 * rejected where no test could catch it.
 */
import { initModules } from "@medusajs/test-utils"
import { Modules } from "@medusajs/framework/utils"
import { MODULE_PATH } from "./engine"

async function main() {
  const { shutdown } = await initModules({
    modulesConfig: {
      [Modules.WORKFLOW_ENGINE]: {
        resolve: MODULE_PATH,
        options: JSON.parse(process.env.MODULE_OPTIONS ?? "{}"),
      },
    },
    databaseConfig: { clientUrl: process.env.DATABASE_URL!, schema: "public" },
  })
  process.stdout.write("started\n")
  await shutdown()
  process.exit(0)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
