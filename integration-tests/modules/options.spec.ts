import { TestDatabaseUtils } from "@medusajs/test-utils"
import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import {
  ContainerRegistrationKeys,
  MedusaError,
  Modules,
} from "@medusajs/framework/utils"
import { spawn } from "child_process"
import path from "path"
import { resolveOptions } from "../../src/modules/workflow-engine/options"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  recordingLogger,
  recordSql,
  rowsOf,
  TEST_DATABASE,
  withEngineShutdown,
} from "./__fixtures__/engine"
import { WF } from "./__fixtures__/workflows"

jest.setTimeout(60000)

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  moduleOptions: { defaultRetentionTime: 600, preparedStatements: false },
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    it("keeps a finished run without retention for defaultRetentionTime seconds", async () => {
      const { transaction } = await engine.run(WF.noRetention, {
        input: { value: 1 },
      })
      const [row] = await rowsOf(knexOf(medusaApp), transaction.transactionId)
      expect(row.state).toBe("done")
      expect(row.retention_time).toBe(600)
    })

    it("leaves a workflow's own retentionTime in force", async () => {
      const { transaction } = await engine.run(WF.storedThreeSteps, {
        input: { value: 1 },
      })
      const [row] = await rowsOf(knexOf(medusaApp), transaction.transactionId)
      expect(row.retention_time).toBe(99999)
    })

    it("sends a stored run's statements unprepared with preparedStatements: false", async () => {
      const db = knexOf(medusaApp)
      await engine.run(WF.storedThreeSteps, { input: { value: 1 } })
      const { result, statements, prepared } = await recordSql(db, () =>
        engine.run(WF.storedThreeSteps, { input: { value: 2 } })
      )
      // The update goes in a WITH, which records a failed run's event in the same statement (events/).
      expect(statements.map((sql) => sql.trim().split(/\s/)[0])).toEqual([
        "INSERT",
        "WITH",
      ])
      expect(prepared).toEqual([])
      const [row] = await rowsOf(db, (result as any).transaction.transactionId)
      expect(row.state).toBe("done")
    })

    it("still stores nothing of a workflow that is not stored", async () => {
      const { transaction } = await engine.run(WF.notStored, {
        input: { value: 1 },
      })
      expect(
        await rowsOf(knexOf(medusaApp), transaction.transactionId)
      ).toEqual([])
    })
  }),
})

// What a store that ran Medusa's Redis engine has under `options` (the shape of its RedisWorkflowsOptions).
const REDIS_ENGINE_OPTIONS = {
  redis: {
    redisUrl: "redis://localhost:6379",
    queueName: "medusa-workflows",
    jobQueueName: "medusa-workflows-jobs",
    workerOptions: { concurrency: 10 },
  },
}

const logger = recordingLogger()

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  moduleOptions: REDIS_ENGINE_OPTIONS,
  injectedDependencies: { [ContainerRegistrationKeys.LOGGER]: logger },
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    it("starts with the options of Medusa's Redis engine, warning through the module's logger that it ignores them", async () => {
      const { transaction } = await engine.run(WF.storedThreeSteps, {
        input: { value: 1 },
      })
      expect(
        (await rowsOf(knexOf(medusaApp), transaction.transactionId)).map(
          (row: any) => row.state
        )
      ).toEqual(["done"])
      expect(
        logger.warnings.filter((warning) => warning.includes('option "redis"'))
      ).toEqual([
        expect.stringMatching(
          /option "redis" belongs to Medusa's own workflow engines; this engine ignores it/
        ),
      ])
    })
  }),
})

/** Starts the module with `options` in a process of its own (start-module.ts): its exit code and output. */
function startModuleProcess(
  options: Record<string, unknown>
): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    [
      "-r",
      "ts-node/register/transpile-only",
      path.join(__dirname, "__fixtures__/start-module.ts"),
    ],
    {
      env: {
        ...process.env,
        NODE_OPTIONS: "",
        DATABASE_URL: TestDatabaseUtils.getDatabaseURL(TEST_DATABASE),
        MODULE_OPTIONS: JSON.stringify(options),
      },
      cwd: path.join(__dirname, "../.."),
    }
  )
  let output = ""
  child.stdout.on("data", (chunk) => (output += chunk))
  child.stderr.on("data", (chunk) => (output += chunk))
  return new Promise((resolve) =>
    child.once("exit", (code) => resolve({ code, output }))
  )
}

describe("a module start with an option no engine knows", () => {
  it("fails, naming the option, even beside the options of Medusa's Redis engine", async () => {
    // queueName belongs inside `redis`; at the top it is a mistake, and the start says so.
    const { code, output } = await startModuleProcess({
      ...REDIS_ENGINE_OPTIONS,
      queueName: "medusa-workflows",
    })
    expect(code).toBe(1)
    expect(output).toMatch(/option "queueName" is not a known option/)
    expect(output).not.toContain("started\n")
  })

  it("succeeds with the options of Medusa's Redis engine alone", async () => {
    const { code, output } = await startModuleProcess(REDIS_ENGINE_OPTIONS)
    expect({ code, started: output.includes("started\n") }).toEqual({
      code: 0,
      started: true,
    })
  })
})

describe("module options", () => {
  const message = (options: Record<string, unknown>) => {
    try {
      resolveOptions(options)
    } catch (error: any) {
      expect(error).toBeInstanceOf(MedusaError)
      expect(error.type).toBe(MedusaError.Types.INVALID_DATA)
      return error.message
    }
    throw new Error("expected the options to be refused")
  }

  it("defaults to removing finished runs without retention and purging every 15 minutes", () => {
    const defaults = {
      defaultRetentionSeconds: undefined,
      retentionSecondsByState: {},
      purgeIntervalSeconds: 900,
      purgeBatchSize: 5000,
      leaseDurationMs: 10000,
      pollIntervalMs: 5000,
      preparedStatements: true,
      directDatabaseUrl: undefined,
      stuckAfterSeconds: 3600,
    }
    expect(resolveOptions({})).toEqual(defaults)
    expect(resolveOptions(undefined)).toEqual(defaults)
    expect(
      resolveOptions({
        retentionTimeByState: { failed: 60 },
        purgeIntervalSeconds: 0,
        purgeBatchSize: 10,
      })
    ).toEqual({
      ...defaults,
      retentionSecondsByState: { failed: 60 },
      purgeIntervalSeconds: 0,
      purgeBatchSize: 10,
    })
  })

  it("refuses bad retention-by-state and purge options, naming the field", () => {
    expect(message({ retentionTimeByState: { invoking: 60 } })).toContain(
      "retentionTimeByState.invoking"
    )
    expect(message({ retentionTimeByState: { failed: -5 } })).toContain(
      "retentionTimeByState.failed"
    )
    expect(message({ retentionTimeByState: [60] })).toContain(
      "retentionTimeByState"
    )
    expect(message({ purgeIntervalSeconds: -1 })).toContain(
      "purgeIntervalSeconds"
    )
    expect(message({ purgeBatchSize: 0 })).toContain("purgeBatchSize")
    expect(message({ purgeBatchSize: 1_000_000 })).toContain("purgeBatchSize")
  })

  it("refuses a lease or poll interval of the wrong type or unit, naming the option", () => {
    expect(message({ leaseDurationMs: 10 })).toContain('"leaseDurationMs"')
    expect(message({ leaseDurationMs: "10s" })).toContain('"leaseDurationMs"')
    expect(message({ leaseDurationMs: 10.5 })).toContain('"leaseDurationMs"')
    expect(message({ pollIntervalMs: 0 })).toContain('"pollIntervalMs"')
    expect(message({ pollIntervalMs: 3_600_000 })).toContain('"pollIntervalMs"')
    expect(
      resolveOptions({ leaseDurationMs: 4000, pollIntervalMs: 250 })
    ).toEqual(
      expect.objectContaining({ leaseDurationMs: 4000, pollIntervalMs: 250 })
    )
  })

  it("refuses a negative, fractional or non-numeric retention, naming the option", () => {
    expect(message({ defaultRetentionTime: -1 })).toContain(
      "defaultRetentionTime"
    )
    expect(message({ defaultRetentionTime: 1.5 })).toContain(
      "defaultRetentionTime"
    )
    expect(message({ defaultRetentionTime: "3600" })).toContain(
      "defaultRetentionTime"
    )
  })

  it("refuses a preparedStatements that is not a boolean, naming the option", () => {
    expect(message({ preparedStatements: "no" })).toMatch(
      /"preparedStatements" must be true or false/
    )
    expect(
      resolveOptions({ preparedStatements: false }).preparedStatements
    ).toBe(false)
  })

  it("refuses a directDatabaseUrl that is not a Postgres URL, naming the option and never the value", () => {
    expect(message({ directDatabaseUrl: "db.example.com:5432" })).toMatch(
      /"directDatabaseUrl" must be a postgres:\/\//
    )
    const refused = message({
      directDatabaseUrl: "mysql://admin:s3cret@db.example.com/store",
    })
    expect(refused).toContain('"directDatabaseUrl"')
    expect(refused).not.toContain("s3cret")
    expect(message({ directDatabaseUrl: 5432 })).toContain(
      '"directDatabaseUrl"'
    )
    const url =
      "postgresql://postgres.abc:s3cret@aws-0-eu-central-1.pooler.supabase.com:5432/postgres"
    expect(resolveOptions({ directDatabaseUrl: url }).directDatabaseUrl).toBe(
      url
    )
  })

  it("refuses an unknown option, naming it", () => {
    expect(message({ retention: 60 })).toContain('"retention"')
  })

  it("accepts the options of Medusa's Redis engine with a warning, and still refuses any other", () => {
    const warned: string[] = []
    const logger = { warn: (text: string) => void warned.push(text) }
    expect(
      resolveOptions({ redis: { redisUrl: "redis://localhost:6379" } }, logger)
    ).toEqual(resolveOptions({}))
    expect(warned).toEqual([expect.stringContaining('option "redis"')])
    expect(message({ redis: {}, queueName: "medusa-workflows" })).toContain(
      '"queueName"'
    )
  })
})
