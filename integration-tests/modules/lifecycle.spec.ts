import { moduleIntegrationTestRunner } from "@medusajs/test-utils"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import { MODULE_PATH, RecordingLogger, recordingLogger, TEST_DATABASE, waitUntil } from "./__fixtures__/engine"
import { dropDatabase, ensureDatabase, withClient } from "./__fixtures__/migrations/database"

/*
 * The engine's background work as a whole: it starts entirely or not at all,
 * and says why not. Each block runs the module through Medusa's runner on a
 * database of its own, so that the connections counted are this file's.
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

function runner(logger: RecordingLogger, beforeModuleInit: () => Promise<unknown>, testSuite: (engine: IWorkflowEngineService) => void) {
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
        expect(logger.infos.filter((message) => STARTED.test(message))).toEqual([])
        // Its lease, taken before, is ended; its LISTEN connection, opened before, is closed.
        const leases = await withClient(DB, async (client) =>
          (await client.query(`SELECT lease_expires_at <= now() AS ended FROM workflow_engine_instance`)).rows
        )
        expect(leases).toEqual([{ ended: true }])
        await waitUntil(async () => (await listeningConnections()) === 0, 10000)
      })
    }
  )
})
