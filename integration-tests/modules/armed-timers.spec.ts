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
  }),
})
