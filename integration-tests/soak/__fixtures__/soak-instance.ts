/**
 * One engine instance of the soak as its own OS process: the workflow engine
 * module on DATABASE_URL with a short purge interval, the soak workflows
 * registered, taking the harness's commands over IPC (see instance-commands).
 * Prints "ready" once started, and runs until killed or the harness goes. LEASE_MS sets the
 * module's leaseDurationMs, PURGE_INTERVAL_SECONDS its purgeIntervalSeconds.
 */
import { initModules } from "@medusajs/test-utils"
import { Modules } from "@medusajs/framework/utils"
import { answerCommands } from "../../cluster/__fixtures__/instance-commands"
import { MODULE_PATH } from "../../modules/__fixtures__/engine"

async function main() {
  const clientUrl = process.env.DATABASE_URL!
  const { medusaApp } = await initModules({
    modulesConfig: {
      [Modules.WORKFLOW_ENGINE]: {
        resolve: MODULE_PATH,
        options: {
          leaseDurationMs: Number(process.env.LEASE_MS),
          purgeIntervalSeconds: Number(process.env.PURGE_INTERVAL_SECONDS),
        },
      },
    },
    databaseConfig: { clientUrl, schema: "public" },
    preventConnectionDestroyWarning: true,
  })
  // After the engine is installed, so that the schedule goes to its storage.
  require("./soak-workflows")
  answerCommands(medusaApp.modules[Modules.WORKFLOW_ENGINE])
  // The harness is gone (it was interrupted): so is its soak, whose database goes with it.
  process.once("disconnect", () => process.exit(1))
  process.stdout.write("ready\n")
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
