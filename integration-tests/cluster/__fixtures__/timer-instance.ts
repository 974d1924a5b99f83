/**
 * An engine instance process for the timer spec: the workflow engine module
 * on DATABASE_URL in WORKER_MODE (`shared`, `worker` or `server`, which
 * initModules cannot set: the module reads it from MedusaApp), with
 * POLL_MS as its pollIntervalMs and LEASE_MS as its leaseDurationMs, and the
 * timer workflows registered. START_RUN (`<workflow id>:<transaction id>`)
 * starts that run. Prints "ready" once started; on SIGTERM it shuts down as
 * a Medusa server does (its shutdown hooks), then exits.
 */
import { MedusaApp } from "@medusajs/framework/modules-sdk"
import {
  ContainerRegistrationKeys,
  createPgConnection,
  Modules,
} from "@medusajs/framework/utils"
import path from "path"

async function main() {
  const db = createPgConnection({
    clientUrl: process.env.DATABASE_URL!,
    schema: "public",
  })
  const medusaApp = await MedusaApp({
    modulesConfig: {
      [Modules.WORKFLOW_ENGINE]: {
        resolve: path.join(__dirname, "../../../src/modules/workflow-engine"),
        options: {
          leaseDurationMs: Number(process.env.LEASE_MS ?? 2000),
          pollIntervalMs: Number(process.env.POLL_MS ?? 5000),
        },
      },
    },
    injectedDependencies: { [ContainerRegistrationKeys.PG_CONNECTION]: db },
    workerMode: (process.env.WORKER_MODE ?? "shared") as
      "shared" | "worker" | "server",
  })
  await medusaApp.onApplicationStart()
  require("./timer-workflows")
  const engine = medusaApp.modules[Modules.WORKFLOW_ENGINE] as any
  if (process.env.START_RUN) {
    const [workflowId, transactionId] = process.env.START_RUN.split(":")
    await engine.run(workflowId, {
      transactionId,
      input: { key: transactionId },
      throwOnError: false,
    })
  }
  process.stdout.write("ready\n")
  process.on("SIGTERM", () => {
    void (async () => {
      await medusaApp.onApplicationPrepareShutdown()
      await medusaApp.onApplicationShutdown()
      await db.destroy()
      process.exit(0)
    })()
  })
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
