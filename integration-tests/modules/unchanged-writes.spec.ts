import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
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
  rowsOf,
  stepSuccess,
  TEST_DATABASE,
  withEngineShutdown,
} from "./__fixtures__/engine"

/*
 * A checkpoint that must hold against other writers (an answer, a step of a
 * long-running run) is written by one conditional UPDATE while the row is as
 * the execution last saw it, and through the row lock, which reads the
 * stored run and decides, once anyone else changed the row in between.
 */

jest.setTimeout(60000)

const WORKFLOW = "test-unchanged-writes"
const FIRST_WAIT = "test-unchanged-first-wait"
const SECOND_WAIT = "test-unchanged-second-wait"

// Set by the suite: whether the step between the two waits changes the run's row, as another writer would.
const between: { db?: Knex; touch: boolean } = { touch: false }

const firstWait = createStep({ name: FIRST_WAIT, async: true }, async () => {})
const touchRow = createStep(
  "test-unchanged-touch-row",
  async (_: void, { context }) => {
    if (between.touch) {
      await between.db!.raw(
        `UPDATE "workflow_execution" SET "updated_at" = now() WHERE "transaction_id" = ?`,
        [context!.transactionId!]
      )
    }
    return new StepResponse({ touched: between.touch })
  }
)
const secondWait = createStep(
  { name: SECOND_WAIT, async: true },
  async () => {}
)

createWorkflow({ name: WORKFLOW, store: true, retentionTime: 3600 }, () => {
  firstWait()
  const touched = touchRow()
  secondWait()
  return new WorkflowResponse(touched)
})

const answer = (transactionId: string, stepId: string) =>
  stepSuccess(WORKFLOW, transactionId, stepId)

const UNCHANGED = "workflow_engine_update_unchanged_execution"
// A locked write is a transaction: BEGIN; SELECT … FOR UPDATE; UPDATE; COMMIT.
const lockedWrites = (statements: string[]) =>
  statements.filter((sql) => /^\s*begin/i.test(sql)).length

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    let db: Knex
    beforeEach(() => {
      db = knexOf(medusaApp)
      between.db = db
    })

    async function runToFirstWait(transactionId: string) {
      await engine.run(WORKFLOW, { input: {}, transactionId })
      const [row] = await rowsOf(db, transactionId)
      expect(row.state).toBe("invoking")
    }

    async function stepStates(transactionId: string) {
      const [row] = await rowsOf(db, transactionId)
      const steps = row.execution.steps as Record<
        string,
        { id: string; invoke: { state: string } }
      >
      return Object.fromEntries(
        Object.values(steps)
          .filter((step) => step.id !== "_root")
          .map((step) => [step.id.split(".").pop(), step.invoke.state])
      )
    }

    it("writes an answer and the steps it runs by one conditional statement each, without a lock, while nothing else changed the run", async () => {
      between.touch = false
      await runToFirstWait("unchanged-1")

      const answered = await recordSql(db, () =>
        engine.setStepSuccess(answer("unchanged-1", FIRST_WAIT))
      )
      expect(lockedWrites(answered.statements)).toBe(0)
      expect(answered.prepared.filter((name) => name === UNCHANGED)).toEqual(
        answered.prepared.filter((name) => name.includes("update"))
      )
      expect(
        answered.prepared.filter((name) => name === UNCHANGED).length
      ).toBeGreaterThan(0)
      expect(await stepStates("unchanged-1")).toEqual({
        [FIRST_WAIT]: "done",
        "test-unchanged-touch-row": "done",
        [SECOND_WAIT]: "invoking",
      })

      // The run's end is one conditional statement too, with what it changes besides: its timers go, its
      // finish is logged for the other instances.
      const ended = await recordSql(db, () =>
        engine.setStepSuccess(answer("unchanged-1", SECOND_WAIT))
      )
      expect(lockedWrites(ended.statements)).toBe(0)
      const endWrites = ended.prepared.filter((name) =>
        name.startsWith(`${UNCHANGED}_`)
      )
      expect(endWrites).toHaveLength(1)
      expect(
        ended.statements.filter((sql) =>
          /^\s*(WITH|UPDATE|DELETE|INSERT)/i.test(sql)
        )
      ).toHaveLength(2)
      const [row] = await rowsOf(db, "unchanged-1")
      expect(row.state).toBe("done")
      const finishes = await db.raw(
        `SELECT "state" FROM "workflow_engine_finish" WHERE "transaction_id" = ?`,
        ["unchanged-1"]
      )
      expect(finishes.rows).toEqual([{ state: "done" }])
    })

    it("takes the lock for a checkpoint once another writer changed the run since the execution saw it, and the run goes on", async () => {
      between.touch = true
      await runToFirstWait("unchanged-2")

      const answered = await recordSql(db, () =>
        engine.setStepSuccess(answer("unchanged-2", FIRST_WAIT))
      )
      // The answer found the row as it loaded it; the step after it changed the row, so the next checkpoint
      // is written under the lock, and the one after that, the row as that write left it, without.
      expect(lockedWrites(answered.statements)).toBeGreaterThanOrEqual(1)
      expect(await stepStates("unchanged-2")).toEqual({
        [FIRST_WAIT]: "done",
        "test-unchanged-touch-row": "done",
        [SECOND_WAIT]: "invoking",
      })
      const [row] = await rowsOf(db, "unchanged-2")
      expect(
        row.context.data.invoke["test-unchanged-touch-row"].output.output
      ).toEqual({ touched: true })

      await engine.setStepSuccess(answer("unchanged-2", SECOND_WAIT))
      expect((await rowsOf(db, "unchanged-2"))[0].state).toBe("done")
    })
  }),
})
