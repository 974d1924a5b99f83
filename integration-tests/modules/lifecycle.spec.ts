import { moduleIntegrationTestRunner } from "@medusajs/test-utils"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import {
  MODULE_PATH,
  RecordingLogger,
  recordingLogger,
  TEST_DATABASE,
  waitUntil,
} from "./__fixtures__/engine"
import {
  dropDatabase,
  ensureDatabase,
  withClient,
} from "./__fixtures__/migrations/database"
import { WF } from "./__fixtures__/workflows"

/*
 * The engine's background work as a whole: it starts entirely or not at all,
 * and says why not; one engine runs per process, whose storage the process's
 * workflows use; an engine whose pool is closed stops. Each block runs the
 * module through Medusa's runner, without shutdown hooks, on a database of
 * this file's own, so that the connections counted are this file's.
 */

jest.setTimeout(60000)

// One per checkout, as TEST_DATABASE.
const DB = `medusa-wep-lifecycle-${TEST_DATABASE.slice("medusa-wep-test-".length)}`

const STARTED = /^Workflow engine instance (\S+) started/

/** Backends of the test database holding a LISTEN: the engines' notification connections. */
async function listeningConnections(): Promise<number> {
  return await withClient(DB, async (client) => {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN %'`
    )
    return rows[0].n
  })
}

function runner(
  logger: RecordingLogger,
  beforeModuleInit: () => Promise<void>,
  testSuite: (engine: IWorkflowEngineService) => void
) {
  moduleIntegrationTestRunner<IWorkflowEngineService>({
    dbName: DB,
    moduleName: Modules.WORKFLOW_ENGINE,
    resolve: MODULE_PATH,
    injectedDependencies: { [ContainerRegistrationKeys.LOGGER]: logger },
    hooks: { beforeModuleInit },
    testSuite: ({ service }) => testSuite(service),
  })
}

beforeAll(() => ensureDatabase(DB))

afterAll(() => dropDatabase(DB))

describe("when a part of the background work cannot start", () => {
  const logger = recordingLogger()

  // The schedules start last but one: the database refuses to register any (the purge's is always there).
  runner(
    logger,
    () =>
      withClient(DB, async (client) => {
        await client.query(`
          CREATE FUNCTION refuse_schedules() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            RAISE EXCEPTION 'schedules refused by the test';
          END $$`)
        await client.query(
          `CREATE TRIGGER refuse_schedules BEFORE INSERT ON workflow_engine_schedule FOR EACH ROW EXECUTE FUNCTION refuse_schedules()`
        )
      }),
    () => {
      it("logs which part and why, and stops the parts started before it", async () => {
        expect(logger.errors).toEqual([
          expect.stringMatching(
            /^Workflow engine instance wf_inst_\S+ could not start its schedules, so none of its background work runs \(.*\): [\s\S]*schedules refused by the test$/
          ),
        ])
        expect(logger.infos.filter((message) => STARTED.test(message))).toEqual(
          []
        )
        // Its lease, taken before, is ended; its LISTEN connection, opened before, is closed.
        const leases = await withClient(
          DB,
          async (client) =>
            (
              await client.query(
                `SELECT lease_expires_at <= now() AS ended FROM workflow_engine_instance`
              )
            ).rows
        )
        expect(leases).toEqual([{ ended: true }])
        await waitUntil(async () => (await listeningConnections()) === 0, 10000)
      })
    }
  )
})

describe("loaded again in one process, as Medusa's runner loads it for every test without shutting it down", () => {
  const logger = recordingLogger()
  const instances: string[] = []
  const startedInstance = () =>
    logger.infos
      .map((message) => message.match(STARTED)?.[1])
      .filter(Boolean)
      .pop()!

  runner(
    logger,
    async () => undefined,
    (engine) => {
      it("runs an engine", async () => {
        instances.push(startedInstance())
        expect(await listeningConnections()).toBe(1)
      })

      it("stops the previous engine's background work, and hands the process's storage to the new one", async () => {
        instances.push(startedInstance())
        expect(instances[1]).not.toBe(instances[0])
        // Only the new engine listens: the previous one's connection closed before the new one started.
        expect(await listeningConnections()).toBe(1)
        // A run is stored by the new engine's storage, which writes its own instance as the run's owner.
        const { transaction } = await engine.run(WF.asyncStep, {
          input: { value: 1 },
        })
        const [execution] = await engine.listWorkflowExecutions({
          transaction_id: transaction.transactionId,
        })
        expect(execution.state).toBe("invoking")
        const owners = await withClient(
          DB,
          async (client) =>
            (
              await client.query(
                `SELECT owner_instance_id FROM workflow_execution WHERE transaction_id = $1`,
                [transaction.transactionId]
              )
            ).rows
        )
        expect(owners).toEqual([{ owner_instance_id: instances[1] }])
      })
    }
  )

  // The runner closes its connection after the last test: the engine left running notices and stops.
  afterAll(async () => {
    await waitUntil(async () => (await listeningConnections()) === 0, 10000)
  })
})
