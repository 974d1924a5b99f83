import { moduleIntegrationTestRunner } from "@medusajs/test-utils"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import type { MedusaAppOutput } from "@medusajs/framework/modules-sdk"
import {
  knexOf,
  MODULE_PATH,
  RecordingLogger,
  recordingLogger,
  TEST_DATABASE,
  withInsertsHeld,
} from "./__fixtures__/engine"
import {
  dropDatabase,
  ensureDatabase,
  migrate,
  MIGRATION_DIRS,
  OUR_STORAGE_MIGRATION,
  resetSchema,
} from "./__fixtures__/migrations/database"
import { WF } from "./__fixtures__/workflows"

/*
 * What the module says at start about a database it cannot work on as it
 * is: its migrations not run at all, run only up to an older version of the
 * plugin, or a schema built from the models (Medusa's module test runner
 * without migrations). Each runner below starts the module on a schema the
 * test prepared before the module's start (beforeModuleInit).
 */

jest.setTimeout(60000)

// One per checkout, as TEST_DATABASE.
const DB = `medusa-wep-unmigrated-${TEST_DATABASE.slice("medusa-wep-test-".length)}`

const STARTED = /^Workflow engine instance \S+ started/

afterAll(async () => {
  await dropDatabase(DB)
})

type Started = {
  logger: RecordingLogger
  engine: IWorkflowEngineService
  medusaApp: MedusaAppOutput
}

/**
 * The module started by Medusa's runner on a schema `prepare` made from an
 * empty one (the runner, given no models, leaves it as it is), or on the
 * schema the runner builds from the models.
 */
function startedOn(
  prepare: (() => Promise<unknown>) | "models",
  suite: (started: Started) => void
) {
  const logger = recordingLogger()
  moduleIntegrationTestRunner<IWorkflowEngineService>({
    dbName: DB,
    moduleName: Modules.WORKFLOW_ENGINE,
    resolve: MODULE_PATH,
    ...(prepare === "models" ? {} : { moduleModels: [] }),
    injectedDependencies: { [ContainerRegistrationKeys.LOGGER]: logger },
    hooks: {
      beforeModuleInit: async () => {
        await ensureDatabase(DB)
        if (prepare !== "models") {
          await resetSchema(DB)
          await prepare()
        }
      },
    },
    testSuite: ({ service, medusaApp }) =>
      suite({ logger, engine: service, medusaApp }),
  })
}

describe("on a database where the migrations have not run", () => {
  startedOn(
    async () => undefined,
    ({ logger }) => {
      it("says so once at start, naming what is missing and `medusa db:migrate`, and starts no background work", () => {
        expect(logger.errors).toEqual([
          expect.stringMatching(
            /^Workflow engine: the database lacks [a-z_, ]+: this module's migrations have not run on it\. Run `npx medusa db:migrate`\./
          ),
        ])
        const missing = logger.errors[0]
          .match(/lacks ([a-z_, ]+):/)![1]
          .split(", ")
        expect(missing).toEqual(
          expect.arrayContaining([
            "workflow_execution",
            "workflow_engine_instance",
            "workflow_execution_timer",
          ])
        )
        expect(logger.infos.filter((message) => STARTED.test(message))).toEqual(
          []
        )
      })
    }
  )
})

describe("on a database migrated by an older version of the plugin", () => {
  // Everything before the tables many instances share and the owner column.
  startedOn(
    () => migrate(DB, MIGRATION_DIRS.ours, { to: OUR_STORAGE_MIGRATION }),
    ({ logger, engine }) => {
      it("names the columns and tables the newer migrations add", () => {
        expect(logger.errors).toHaveLength(1)
        const [message] = logger.errors
        for (const missing of [
          "workflow_execution.owner_instance_id",
          "workflow_engine_instance",
          "workflow_execution_timer",
          "workflow_engine_schedule",
        ]) {
          expect(message).toContain(missing)
        }
        expect(message).not.toMatch(/lacks workflow_execution[,:]/)
        expect(message).toContain("Run `npx medusa db:migrate`")
        expect(logger.infos.filter((message) => STARTED.test(message))).toEqual(
          []
        )
      })

      it("logs the database's answer to a stored run's first save, which Medusa reports as already started", async () => {
        // An id the engine generates: the run's first statement is its first save (a given id is looked up first,
        // and that read already meets a missing column).
        const thrown = await engine
          .run(WF.storedThreeSteps, { input: { value: 1 } })
          .catch((error: Error) => error)
        const transactionId = String((thrown as Error).message).match(
          /^Transaction already started for transactionId: (\S+)$/
        )?.[1]
        expect(transactionId).toBeDefined()
        expect(
          logger.errors.filter((message) =>
            message.startsWith(`Workflow ${WF.storedThreeSteps} `)
          )
        ).toEqual([
          `Workflow ${WF.storedThreeSteps} (transaction ${transactionId}): storing the run (not_started) failed: ` +
            `column "owner_instance_id" of relation "workflow_execution" does not exist (42703)`,
        ])
      })
    }
  )
})

describe("on a schema built from the models", () => {
  startedOn("models", ({ logger, engine, medusaApp }) => {
    it("warns that the counters are not kept, names `medusa db:migrate`, and starts", async () => {
      expect(logger.errors).toEqual([])
      expect(logger.warnings).toEqual([
        expect.stringMatching(
          /^Workflow engine: workflow_execution has no counting triggers.*list totals and the storage report count rows.*`npx medusa db:migrate`/
        ),
      ])
      expect(
        logger.infos.filter((message) => STARTED.test(message))
      ).toHaveLength(1)
      const { result } = await engine.run(WF.storedThreeSteps, {
        input: { value: 1 },
      })
      expect(result).toEqual({ "test-step-one": 1 })
    })

    it("logs no error for a start the storage refuses itself: two starts of one transaction id at once", async () => {
      const transactionId = "started-twice"
      const starts = await withInsertsHeld(knexOf(medusaApp), 2, () =>
        Promise.allSettled(
          [1, 2].map((value) =>
            engine.run(WF.storedThreeSteps, { input: { value }, transactionId })
          )
        )
      )
      expect(starts.map((start) => start.status).sort()).toEqual([
        "fulfilled",
        "rejected",
      ])
      expect(starts.find((start) => start.status === "rejected")).toEqual(
        expect.objectContaining({
          reason: expect.objectContaining({
            message: `Transaction already started for transactionId: ${transactionId}`,
          }),
        })
      )
      expect(logger.errors).toEqual([])
    })
  })
})
