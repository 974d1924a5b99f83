import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService, Logger } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  recordSql,
  TEST_DATABASE,
  waitUntil,
  withEngineShutdown,
} from "./__fixtures__/engine"

/*
 * A timer set on this instance is armed in its process and, once due, claimed
 * for firing by the load its run makes first: one statement. One that is no
 * longer as it was armed (set again, cleared or taken over elsewhere) is not
 * fired here.
 */

jest.setTimeout(60000)

const RETRIED = "test-armed-retried"
const FAILS_FIRST = "test-armed-fails-first"

const attempts: Record<string, number> = {}
const failsFirst = createStep(
  { name: FAILS_FIRST, maxRetries: 1, retryInterval: 1 },
  async (_: void, { context }) => {
    const id = context!.transactionId!
    attempts[id] = (attempts[id] ?? 0) + 1
    if (attempts[id] === 1) {
      throw new Error("the first attempt fails")
    }
    return new StepResponse(attempts[id])
  }
)
createWorkflow({ name: RETRIED, store: true, retentionTime: 3600 }, () => {
  failsFirst()
  return new WorkflowResponse("done")
})

const debugs: string[] = []
const logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: (message: string) => void debugs.push(String(message)),
} as unknown as Logger

// The armed timer's claim, whether carried by a load or sent on its own.
const CLAIM = /UPDATE "workflow_execution_timer" t\s+SET "claimed_by"/
const LOAD =
  /FROM "workflow_execution"\s+WHERE "workflow_id" = \$\d+ AND "transaction_id" = \$\d+/

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  injectedDependencies: { [ContainerRegistrationKeys.LOGGER]: logger },
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    let db: Knex
    beforeEach(() => {
      db = knexOf(medusaApp)
    })

    const stateOf = async (transactionId: string) =>
      (
        await db.raw(
          `SELECT "state" FROM "workflow_execution" WHERE "transaction_id" = ?`,
          [transactionId]
        )
      ).rows[0]?.state
    const timersOf = async (transactionId: string) =>
      (
        await db.raw(
          `SELECT "claimed_by", "due_at" > now() + interval '30 minutes' AS "later"
             FROM "workflow_execution_timer" WHERE "transaction_id" = ?`,
          [transactionId]
        )
      ).rows

    it("claims a due armed retry with the load of its run, in one statement", async () => {
      const transactionId = "armed-1"
      const { statements } = await recordSql(db, async () => {
        await engine.run(RETRIED, { transactionId })
        await waitUntil(async () => (await stateOf(transactionId)) === "done")
      })
      expect(attempts[transactionId]).toBe(2)
      const claims = statements.filter((sql) => CLAIM.test(sql))
      expect(claims).toHaveLength(1)
      expect(claims[0]).toMatch(LOAD)
      expect(await timersOf(transactionId)).toEqual([])
    })

    it("does not fire an armed retry that was set again elsewhere before it came due", async () => {
      const transactionId = "armed-2"
      await engine.run(RETRIED, { transactionId })
      expect(attempts[transactionId]).toBe(1)
      // As another instance setting it again would leave it: due later, free.
      const { rowCount } = await db.raw(
        `UPDATE "workflow_execution_timer"
            SET "due_at" = now() + interval '1 hour', "claimed_by" = NULL
          WHERE "transaction_id" = ?`,
        [transactionId]
      )
      expect(rowCount).toBe(1)

      await waitUntil(
        () =>
          debugs.some(
            (message) =>
              message.includes(transactionId) &&
              message.includes("no longer as this instance armed it")
          ),
        30000,
        { what: "the armed retry dropped at its run's load" }
      )
      expect(attempts[transactionId]).toBe(1)
      expect(await stateOf(transactionId)).toBe("invoking")
      expect(await timersOf(transactionId)).toEqual([
        { claimed_by: null, later: true },
      ])
    })

    it("hands back an armed retry whose run ended before its load, and fires it again", async () => {
      const transactionId = "armed-3"
      await engine.run(RETRIED, { transactionId })
      expect(attempts[transactionId]).toBe(1)
      // The statement of the run's load that claims the timer fails once: neither a refusal nor a lost connection.
      await db.raw(`
        CREATE SEQUENCE IF NOT EXISTS "test_claim_fails_once";
        CREATE OR REPLACE FUNCTION "test_claim_fails_once"() RETURNS trigger AS $$
        BEGIN
          IF OLD."transaction_id" = '${transactionId}' AND NEW."claimed_by" IS NOT NULL
             AND nextval('test_claim_fails_once') = 1 THEN
            RAISE EXCEPTION 'the test fails this claim once';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        CREATE TRIGGER "test_claim_fails_once" BEFORE UPDATE ON "workflow_execution_timer"
          FOR EACH ROW EXECUTE FUNCTION "test_claim_fails_once"();`)
      try {
        // Handed back due again after the poll interval, then claimed by a look at the table and fired.
        await waitUntil(async () => (await stateOf(transactionId)) === "done")
      } finally {
        await db.raw(`
          DROP TRIGGER "test_claim_fails_once" ON "workflow_execution_timer";
          DROP FUNCTION "test_claim_fails_once"();
          DROP SEQUENCE "test_claim_fails_once";`)
      }
      expect(attempts[transactionId]).toBe(2)
      expect(await timersOf(transactionId)).toEqual([])
    })
  }),
})
