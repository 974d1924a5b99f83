import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import { SkipExecutionError } from "@medusajs/framework/orchestration"
import MedusaInMemoryEngine from "@medusajs/workflow-engine-inmemory"
import WorkflowEngineModule from "../../src/modules/workflow-engine"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  rowsOf,
  TEST_DATABASE,
  waitForFinish,
  withEngineShutdown,
  withInsertsHeld,
  within,
  asStepTransaction,
} from "./__fixtures__/engine"
import { release } from "../cluster/__fixtures__/gates"
import {
  backgroundAttempts,
  counts,
  nextParityEvent,
  PARITY,
  parityEvents,
} from "./__fixtures__/parity-workflows"

jest.setTimeout(60000)

/*
 * Scenarios where Medusa's own engine tests showed ours behaving differently
 * from Medusa's engines (issue 11); each states what Medusa's engine does.
 */

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    describe("two starts of one transaction id", () => {
      it("runs one of two simultaneous starts and refuses the other, as Medusa's engine does", async () => {
        const before = counts.slowStep
        // Both starts find no run and try to insert one: the unique in-flight index decides.
        const settled = await withInsertsHeld(
          knexOf(medusaApp),
          2,
          async () => {
            const starts = [
              engine.run(PARITY.slowStart, { transactionId: "parity-twice" }),
              engine.run(PARITY.slowStart, { transactionId: "parity-twice" }),
            ]
            // The refused start ends while the other's step still runs; then that step may end.
            try {
              await within(
                Promise.race(
                  starts.map((start) => start.catch(() => undefined))
                ),
                10000,
                "a refusal"
              )
            } finally {
              release("parity-twice")
            }
            return await Promise.allSettled(starts)
          }
        )

        const ran = settled.filter(
          (outcome) => outcome.status === "fulfilled"
        ) as PromiseFulfilledResult<any>[]
        const refused = settled.filter(
          (outcome) => outcome.status === "rejected"
        ) as PromiseRejectedResult[]
        expect(ran.map((outcome) => outcome.value.result)).toEqual([
          "slow-done",
        ])
        expect(refused.map((outcome) => outcome.reason.message)).toEqual([
          "Transaction already started for transactionId: parity-twice",
        ])
        // The orchestration's own error type, as Medusa's engines throw it, so callers' checks keep working.
        expect(SkipExecutionError.isSkipExecutionError(refused[0].reason)).toBe(
          true
        )
        expect(counts.slowStep - before).toBe(1)
        expect(
          (await rowsOf(knexOf(medusaApp), "parity-twice")).map(
            (row: any) => row.state
          )
        ).toEqual(["done"])
      })

      it("refuses a start that arrives while the first start's steps still run, without running them again", async () => {
        const before = counts.slowStep
        try {
          const started = nextParityEvent("slow-step-started")
          const first = engine.run(PARITY.slowStart, {
            transactionId: "parity-overlap",
          })
          await started

          const second = engine.run(PARITY.slowStart, {
            transactionId: "parity-overlap",
          })
          // Its lookup finds the first start's run, stored and still not_started.
          const refusal = await within(second, 10000, "the second start").then(
            () => undefined,
            (error) => error
          )
          expect(refusal?.message).toBe(
            "Transaction already started for transactionId: parity-overlap"
          )
          expect(SkipExecutionError.isSkipExecutionError(refusal)).toBe(true)
          release("parity-overlap")
          expect((await first).result).toBe("slow-done")
        } finally {
          release("parity-overlap")
        }
        expect(counts.slowStep - before).toBe(1)
        expect(
          (await rowsOf(knexOf(medusaApp), "parity-overlap")).map(
            (row: any) => row.state
          )
        ).toEqual(["done"])
      })
    })

    it("leaves one reverted run when a parent is cancelled while its async sub-workflow runs", async () => {
      const transactionId = "parity-cancel-1"
      const childTransactionId = asStepTransaction(
        PARITY.cancelChild,
        transactionId
      )
      const parentStarts: string[] = []
      void engine.subscribe({
        workflowId: PARITY.cancelParent,
        transactionId,
        subscriberId: "parity-cancel-starts",
        subscriber: (event: any) =>
          event.eventType === "onBegin" && parentStarts.push(event.eventType),
      })

      const childStarted = nextParityEvent("cancel-child-started")
      await engine.run(PARITY.cancelParent, { transactionId })
      await childStarted

      const parentFinished = waitForFinish(
        engine,
        PARITY.cancelParent,
        transactionId
      )
      const childWorked = nextParityEvent("cancel-child-worked")
      await engine.cancel(PARITY.cancelParent, { transactionId })
      // The cancel is through; the sub-workflow's step, still running, ends now.
      release(childTransactionId)
      await childWorked
      expect((await parentFinished).state).toBe("reverted")

      // What is being checked is that nothing more happens: the stale execution
      // that started the sub-workflow stops without starting the parent again.
      // A new start would begin the sub-workflow's step again within its first
      // milliseconds; 500 ms (the step's length when it slept) is the window in
      // which it would show.
      const restarted = await within(
        nextParityEvent("cancel-child-started"),
        500,
        "restart"
      ).then(
        () => true,
        () => false
      )
      expect(restarted).toBe(false)
      expect(parentStarts).toEqual(["onBegin"])

      const db = knexOf(medusaApp)
      expect(
        (await rowsOf(db, transactionId)).map((row: any) => [
          row.workflow_id,
          row.state,
        ])
      ).toEqual([[PARITY.cancelParent, "reverted"]])
      expect(
        (await rowsOf(db, childTransactionId)).map((row: any) => [
          row.workflow_id,
          row.state,
        ])
      ).toEqual([[PARITY.cancelChild, "reverted"]])
    })

    it("compensates the parent and finishes when a background sub-workflow with awaiting retries fails", async () => {
      const transactionId = "parity-background-1"
      const finished = waitForFinish(
        engine,
        PARITY.backgroundParent,
        transactionId
      )
      const compensated = nextParityEvent("step0-compensated")
      // Each awaiting retry starts the sub-workflow again, as `-attempt-<n>`; all three fail.
      const attempts = backgroundAttempts(engine, transactionId)

      await engine.run(PARITY.backgroundParent, {
        transactionId,
        throwOnError: false,
      })
      await within(
        attempts.failInTurn(),
        20000,
        "the sub-workflow attempts"
      ).catch(async (error: Error) => {
        // Where it stopped, and what the table holds of the parent and its attempts then.
        const db = knexOf(medusaApp)
        const runs = await db.raw(
          `SELECT "transaction_id", "state" FROM "workflow_execution" WHERE "transaction_id" = ANY(?)`,
          [[transactionId, ...attempts.ids]]
        )
        const timers = await db.raw(
          `SELECT "key", "due_at", "claimed_by" FROM "workflow_execution_timer" WHERE "transaction_id" = ?`,
          [transactionId]
        )
        throw new Error(
          `${error.message}; so far: ${attempts.progress.join(", ") || "nothing"}; ` +
            `runs: ${JSON.stringify(runs.rows)}; the parent's timers: ${JSON.stringify(timers.rows)}`
        )
      })

      expect(await within(compensated, 20000, "step0's compensation")).toBe(
        "undo-step0"
      )
      const event = await within(finished, 20000, "the parent's onFinish")
      // Medusa's engine ends it "failed": compensating the sub-workflow step finds the sub-workflow already reverted.
      expect(event.state).toBe("failed")

      // The later attempts ended while the parent compensated; their reports changed nothing.
      const children = await attempts.finished
      expect(children.map((child) => child.state)).toEqual([
        "reverted",
        "reverted",
        "reverted",
      ])
      expect(await rowsOf(knexOf(medusaApp), transactionId)).toEqual([])
    })

    it("links to workflow executions only, as Medusa's engine does", () => {
      const ours = WorkflowEngineModule.linkable
      const medusas = MedusaInMemoryEngine.linkable
      // The same link keys (id, workflow_id, transaction_id, run_id), each with the same definition.
      expect(ours).toEqual({
        workflowExecution: {
          ...medusas.workflowExecution,
          toJSON: expect.any(Function),
        },
      })
      expect(ours.workflowExecution.id).toEqual({
        linkable: "workflow_execution_id",
        primaryKey: "id",
        serviceName: Modules.WORKFLOW_ENGINE,
        field: "workflowExecution",
        entity: "WorkflowExecution",
      })
      // toJSON: what defineLink reads of a linkable given as a whole (`WorkflowEngineModule.linkable.workflowExecution`).
      expect(JSON.stringify(ours)).toBe(JSON.stringify(medusas))
    })
  }),
})

afterAll(() => parityEvents.removeAllListeners())
