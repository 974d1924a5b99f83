/**
 * One engine instance as its own OS process, as a Medusa server would run it:
 * the workflow engine module on DATABASE_URL, started (its lease, listener,
 * timers and schedules), with the cluster workflows registered. With START_RUN
 * (`<workflow id>:<transaction id>`) it starts that run. Prints "ready" once
 * started, and runs until killed. SUBSCRIBE (`<workflow id>:<transaction id>`)
 * records the onFinish it hears in cluster_log; STEP_SUCCESS
 * (`<workflow id>:<transaction id>:<step id>`) answers that async step.
 * START_RUNS (`<workflow id>:<transaction id prefix>:<count>[,…]`) starts
 * that many runs and does not wait for them to end. With an IPC channel, it
 * also takes the test's commands (see instance-commands). POLL_MS and
 * DIRECT_DATABASE_URL set the module's pollIntervalMs and directDatabaseUrl.
 * EVENTS (`deliver` or `hold`) gives it an event bus (see event-bus.ts) and
 * registers the event workflows.
 */
import { initModules } from "@medusajs/test-utils"
import {
  ContainerRegistrationKeys,
  createPgConnection,
  Modules,
} from "@medusajs/framework/utils"
import path from "path"
import { answerCommands } from "./instance-commands"

async function main() {
  const clientUrl = process.env.DATABASE_URL!
  // ACQUIRE_TIMEOUT_MS: how long a query waits for a pool connection (knex's 60 s otherwise), as a store may set it.
  const injectedDependencies = process.env.ACQUIRE_TIMEOUT_MS
    ? {
        [ContainerRegistrationKeys.PG_CONNECTION]: createPgConnection({
          clientUrl,
          schema: "public",
          pool: {
            acquireTimeoutMillis: Number(process.env.ACQUIRE_TIMEOUT_MS),
          },
        }),
      }
    : undefined
  const { medusaApp } = await initModules({
    injectedDependencies: {
      ...injectedDependencies,
      ...(process.env.EVENTS
        ? {
            [Modules.EVENT_BUS]: require("./event-bus").instanceEventBus(
              process.env.EVENTS
            ),
          }
        : {}),
    },
    modulesConfig: {
      [Modules.WORKFLOW_ENGINE]: {
        resolve: path.join(__dirname, "../../../src/modules/workflow-engine"),
        options: {
          leaseDurationMs: Number(process.env.LEASE_MS ?? 2000),
          ...(process.env.POLL_MS
            ? { pollIntervalMs: Number(process.env.POLL_MS) }
            : {}),
          ...(process.env.DIRECT_DATABASE_URL
            ? { directDatabaseUrl: process.env.DIRECT_DATABASE_URL }
            : {}),
        },
      },
    },
    databaseConfig: { clientUrl, schema: "public" },
    preventConnectionDestroyWarning: true,
  })
  // After the engine is installed, so that the schedule goes to its storage.
  const { log } = require("./cluster-workflows")
  require("./restart-workflows")
  require("./cut-workflows")
  if (process.env.EVENTS) {
    require("./event-workflows")
  }
  const engine = medusaApp.modules[Modules.WORKFLOW_ENGINE]
  if (process.env.SUBSCRIBE) {
    const [workflowId, transactionId] = process.env.SUBSCRIBE.split(":")
    await engine.subscribe({
      workflowId,
      transactionId,
      subscriber: (event: { eventType: string; state?: string }) => {
        if (event.eventType === "onFinish") {
          void log("heard", `${transactionId}:${event.state}`)
        }
      },
    })
  }
  if (process.env.START_RUN) {
    const [workflowId, transactionId] = process.env.START_RUN.split(":")
    await engine.run(workflowId, {
      transactionId,
      input: { key: transactionId },
      throwOnError: false,
    })
    if (process.env.EXIT_AFTER_RUN) {
      // As a `medusa exec` script ends: process.exit() once the script resolved, no shutdown.
      process.stdout.write("ready\n")
      process.exit(0)
    }
  }
  for (const runs of process.env.START_RUNS?.split(",") ?? []) {
    const [workflowId, prefix, count] = runs.split(":")
    for (let i = 0; i < Number(count); i++) {
      void engine.run(workflowId, {
        transactionId: `${prefix}-${i}`,
        input: { key: `${prefix}-${i}` },
        throwOnError: false,
      })
    }
  }
  if (process.env.STEP_SUCCESS) {
    const [workflowId, transactionId, stepId] =
      process.env.STEP_SUCCESS.split(":")
    await engine.setStepSuccess({
      idempotencyKey: { workflowId, transactionId, stepId, action: "invoke" },
      stepResponse: "answered",
    })
  }
  if (process.send) {
    answerCommands(engine)
  }
  process.stdout.write("ready\n")
  const stop = async () => {
    await medusaApp.onApplicationShutdown()
    process.exit(0)
  }
  process.on("SIGTERM", () => void stop())
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
