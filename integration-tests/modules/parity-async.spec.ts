import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules, TransactionHandlerType } from "@medusajs/framework/utils"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  waitForFinish,
  waitUntil,
  withEngineShutdown,
} from "./__fixtures__/engine"
import {
  ANSWERED_STEP,
  AWAITING_STEP,
  backgroundAttempts,
  counts,
  PARITY,
  resetCounts,
} from "./__fixtures__/parity-workflows"

jest.setTimeout(60000)

/*
 * Async steps, sub-workflows and their timers where Medusa's own engine
 * tests showed ours acting twice (issue 11, items 3 and 4): a timer must
 * never act on a step that moved on, and two timers of one run must not
 * both run its next step.
 */

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    beforeEach(() => resetCounts())

    const answer = (transactionId: string) =>
      engine.setStepSuccess({
        idempotencyKey: {
          workflowId: PARITY.answered,
          transactionId,
          stepId: "parity-answered-step",
          action: TransactionHandlerType.INVOKE,
        },
        stepResponse: "answer",
      })

    // Until a statement of the engine waits for the run's row lock: its conditional write, or its locked one.
    const waitForRowLockWait = () =>
      waitUntil(async () => {
        const { rows } = await knexOf(medusaApp).raw(
          `SELECT 1 FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%"workflow_execution"%'`
        )
        return rows.length > 0
      })

    it("does not invoke an awaiting step again when it was answered while its retry was firing", async () => {
      const db = knexOf(medusaApp)
      const transactionId = "pa-awaiting-1"
      const retryKey = `retry:${PARITY.awaiting}:${transactionId}:${AWAITING_STEP}`
      const timerRows = async () =>
        (
          await db.raw(
            `SELECT "claimed_by" FROM "workflow_execution_timer" WHERE "key" = ?`,
            [retryKey]
          )
        ).rows

      await engine.run(PARITY.awaiting, { transactionId })
      expect(counts.awaiting).toBe(1)
      expect(await timerRows()).toHaveLength(1)

      // Another instance answers the step: it holds the run's row lock while the retry fires here.
      const answer = await db.transaction()
      try {
        await answer.raw(
          `SELECT 1 FROM "workflow_execution" WHERE "workflow_id" = ? AND "transaction_id" = ? FOR UPDATE`,
          [PARITY.awaiting, transactionId]
        )
        await waitForRowLockWait()
        await answer.raw(
          `UPDATE "workflow_execution"
              SET "execution" = jsonb_set(jsonb_set("execution", ?::text[], '"done"'), ?::text[], '"ok"')
            WHERE "workflow_id" = ? AND "transaction_id" = ?`,
          [
            `{steps,${AWAITING_STEP},invoke,state}`,
            `{steps,${AWAITING_STEP},invoke,status}`,
            PARITY.awaiting,
            transactionId,
          ]
        )
        await answer.commit()
      } catch (error) {
        await answer.rollback()
        throw error
      }

      await waitUntil(async () => (await timerRows()).length === 0)
      expect(counts.awaiting).toBe(1)
    })

    it("takes a finished run's timers with it, including one its orchestrator never cleared", async () => {
      const db = knexOf(medusaApp)
      const transactionId = "pa-answered-1"
      await engine.run(PARITY.answered, { transactionId })
      // Left by an instance that stored the step's answer and died before clearing the retry it had set.
      const leftKey = `retry:${PARITY.answered}:${transactionId}:${ANSWERED_STEP}`
      await db.raw(
        `INSERT INTO "workflow_execution_timer" ("key", "kind", "workflow_id", "transaction_id", "step_id", "attempt", "metadata", "due_at")
         VALUES (?, 'retry', ?, ?, ?, 1, '{}'::jsonb, now() + interval '1 hour')`,
        [leftKey, PARITY.answered, transactionId, ANSWERED_STEP]
      )

      const finished = waitForFinish(engine, PARITY.answered, transactionId)
      await answer(transactionId)
      expect((await finished).state).toBe("done")

      const { rows } = await db.raw(
        `SELECT "key" FROM "workflow_execution_timer" WHERE "transaction_id" = ?`,
        [transactionId]
      )
      expect(rows).toEqual([])
    })

    it("shuts down only once the storage calls in flight are done, as the orchestrator does not await them all", async () => {
      const db = knexOf(medusaApp)
      const transactionId = "pa-draining-1"
      const shutdown = (
        engine as { __hooks?: { onApplicationShutdown?: () => Promise<void> } }
      ).__hooks!.onApplicationShutdown!
      await engine.run(PARITY.answered, { transactionId })
      // The first of Medusa's two shutdown hooks: the background loops stop, nothing is in flight yet.
      await shutdown()

      // The answer's write waits for a row lock, as a call of a chain nobody awaits would wait for Postgres.
      const holder = await db.transaction()
      let answered: Promise<unknown> | undefined
      try {
        await holder.raw(
          `SELECT 1 FROM "workflow_execution" WHERE "workflow_id" = ? AND "transaction_id" = ? FOR UPDATE`,
          [PARITY.answered, transactionId]
        )
        answered = answer(transactionId)
        await waitForRowLockWait()

        // The second hook: it cannot end while the write waits, and one round trip to Postgres ends first.
        const stopped = shutdown().then(() => "shut down")
        expect(
          await Promise.race([
            stopped,
            db.raw("SELECT 1").then(() => "still waiting"),
          ])
        ).toBe("still waiting")
        await holder.commit()
        expect(await stopped).toBe("shut down")
      } catch (error) {
        await holder.rollback()
        throw error
      }

      // Everything the answer wrote was written before the shutdown ended.
      const { rows } = await db.raw(
        `SELECT "state" FROM "workflow_execution" WHERE "workflow_id" = ? AND "transaction_id" = ?`,
        [PARITY.answered, transactionId]
      )
      expect(rows).toEqual([{ state: "done" }])
      await answered
    })

    it("compensates step0 once when a background sub-workflow with awaiting retries fails, as Medusa's engine does", async () => {
      const transactionId = "pa-background-1"
      const finished = waitForFinish(
        engine,
        PARITY.backgroundParent,
        transactionId
      )
      const attempts = backgroundAttempts(engine, transactionId)
      const { result } = await engine.run(PARITY.backgroundParent, {
        transactionId,
        throwOnError: false,
      })
      expect(result).toBeUndefined()
      await attempts.failInTurn()

      expect((await finished).state).toBe("failed")
      expect((await attempts.finished).map((child) => child.state)).toEqual([
        "reverted",
        "reverted",
        "reverted",
      ])
      // Two continues drive the compensation: the one the sub-workflow step's compensation sets, and the one
      // the parent's first execution sets when its own report of the sub-workflow is refused. One ran step0's.
      expect(counts).toEqual(
        expect.objectContaining({
          step0: 1,
          step0Compensated: 1,
          childStep: 3,
          shaped: 0,
          step2: 0,
        })
      )
      // The last sub-workflow's report reaches the parent's first execution after the parent's end and is
      // refused; that execution's clean-up, which nothing awaits, is what the shutdown waits for (test above).
    })
  }),
})
