import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { Modules } from "@medusajs/framework/utils"
import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { WorkflowsModuleService } from "../../src/modules/workflow-engine/services/workflows-module"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  waitUntil,
  withEngineShutdown,
} from "./__fixtures__/engine"
import { WF } from "./__fixtures__/workflows"

/*
 * Bulk retry and cancel of stored runs (bulk/), and keeping a run from the
 * purge (retention/ keep), against real Postgres. The concurrency cases hold
 * a run's row lock from another connection, as concurrency.spec does, so the
 * order in which the bulk action and another caller reach the run is the
 * database's, and fixed.
 */

jest.setTimeout(90000)

const BULK_WF = "test-bulk-waiting"
const BULK_STEP = "test-bulk-wait"

/** How many times the waiting step of each transaction was invoked. */
const invocations = new Map<string, number>()
const bulkWait = createStep(
  { name: BULK_STEP, async: true },
  async (_: unknown, { context }) => {
    const id = context!.transactionId!
    invocations.set(id, (invocations.get(id) ?? 0) + 1)
  }
)
const bulkAfter = createStep("test-bulk-after", async () => new StepResponse(1))
createWorkflow({ name: BULK_WF, store: true, retentionTime: 3600 }, () => {
  bulkWait()
  return new WorkflowResponse(bulkAfter())
})

const answer = (transactionId: string) => ({
  idempotencyKey: {
    workflowId: BULK_WF,
    transactionId,
    stepId: BULK_STEP,
    action: "invoke" as const,
  },
  stepResponse: "answered",
})

async function lockWaiters(db: Knex): Promise<number> {
  const { rows } = await db.raw(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`
  )
  return rows[0].n
}

moduleIntegrationTestRunner<WorkflowsModuleService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    let db: Knex
    beforeEach(() => {
      db = knexOf(medusaApp)
      invocations.clear()
    })

    /** Starts waiting runs of BULK_WF; returns their execution ids in id order with their transaction ids. */
    async function waitingRuns(
      prefix: string,
      count: number
    ): Promise<{ id: string; transaction_id: string }[]> {
      for (let i = 0; i < count; i++) {
        await engine.run(BULK_WF, { transactionId: `${prefix}-${i}` })
      }
      const { rows } = await db.raw(
        `SELECT id, transaction_id FROM workflow_execution WHERE transaction_id LIKE ? ORDER BY id`,
        [`${prefix}-%`]
      )
      return rows
    }

    const stateOf = async (transactionId: string) =>
      (
        await db.raw(
          `SELECT state FROM workflow_execution WHERE transaction_id = ?`,
          [transactionId]
        )
      ).rows[0]?.state

    describe("bulk retry and cancel", () => {
      it("previews without acting: how many it would retry, how many it would skip and why", async () => {
        const runs = await waitingRuns("preview", 3)
        await engine.run(WF.storedThreeSteps, {
          input: { value: 1 },
          transactionId: "preview-done",
        })

        const preview = await engine.bulkActOnWorkflowExecutions({
          action: "retry",
          filters: { q: "preview" },
          dryRun: true,
        })

        expect(preview).toMatchObject({
          dry_run: true,
          matched: 4,
          acted: 3,
          skipped: 1,
          skipped_by_reason: { already_finished: 1 },
        })
        expect(
          preview.outcomes
            .filter((o) => o.outcome === "would_retry")
            .map((o) => o.id)
            .sort()
        ).toEqual(runs.map((run) => run.id).sort())
        // Nothing was retried: each step was invoked once, by its run.
        expect([...invocations.values()]).toEqual([1, 1, 1])
        const [audit] = await engine.listWorkflowExecutionBulkActions({
          id: preview.id,
        })
        expect(audit).toMatchObject({
          action: "retry",
          dry_run: true,
          matched: 4,
          acted: 3,
          skipped: 1,
        })
      })

      it("retries in bounded batches, each waiting step once, and skips runs with nothing to retry", async () => {
        const runs = await waitingRuns("batches", 5)
        // Answered before the bulk action: nothing waits any more.
        await engine.setStepSuccess(answer(runs[4].transaction_id))
        await waitUntil(
          async () => (await stateOf(runs[4].transaction_id)) === "done"
        )

        const result = await engine.bulkActOnWorkflowExecutions({
          action: "retry",
          filters: { workflow_id: BULK_WF },
          batchSize: 2,
          actor: "user_bulk",
        })

        expect(result).toMatchObject({
          matched: 5,
          acted: 4,
          skipped: 1,
          batches: 3,
          skipped_by_reason: { already_finished: 1 },
        })
        expect(result.outcomes.find((o) => o.id === runs[4].id)?.outcome).toBe(
          "skipped"
        )
        for (const run of runs.slice(0, 4)) {
          expect(result.outcomes.find((o) => o.id === run.id)).toMatchObject({
            outcome: "retried",
            step_ids: [BULK_STEP],
          })
        }
        // The retry invokes each waiting step again, through the engine's timer.
        await waitUntil(() =>
          runs
            .slice(0, 4)
            .every((run) => invocations.get(run.transaction_id) === 2)
        )
        const [audit] = await engine.listWorkflowExecutionBulkActions({
          id: result.id,
        })
        expect(audit).toMatchObject({
          actor: "user_bulk",
          dry_run: false,
          acted: 4,
          skipped: 1,
          batches: 3,
          filters: { workflow_id: BULK_WF },
        })
      })

      it("cancels the runs in flight that match, and skips the finished ones", async () => {
        const runs = await waitingRuns("cancel", 2)
        await engine.run(WF.storedThreeSteps, {
          input: { value: 1 },
          transactionId: "cancel-done",
        })
        const result = await engine.bulkActOnWorkflowExecutions({
          action: "cancel",
          filters: { q: "cancel-" },
        })
        expect(result).toMatchObject({
          matched: 3,
          acted: 2,
          skipped_by_reason: { already_finished: 1 },
        })
        for (const run of runs) {
          expect(result.outcomes.find((o) => o.id === run.id)?.outcome).toBe(
            "cancelled"
          )
          expect(await stateOf(run.transaction_id)).not.toBe("invoking")
        }
        expect(await stateOf("cancel-done")).toBe("done")
      })

      it("leaves alone a run that finished between the bulk's last read and the cancel: a finished run is never compensated", async () => {
        const [run] = await waitingRuns("late-finish", 1)
        // The service the runner built is behind a proxy; its class is where the bulk's reads go.
        const service = WorkflowsModuleService.prototype
        const list = service.listWorkflowExecutions
        let reads = 0
        // The bulk's second read is the one right before it acts: the run ends just after it.
        service.listWorkflowExecutions = async function (
          this: WorkflowsModuleService,
          ...args
        ) {
          const found = await list.apply(this, args)
          if (++reads === 2) {
            await engine.setStepSuccess(answer(run.transaction_id))
            await waitUntil(
              async () => (await stateOf(run.transaction_id)) === "done"
            )
          }
          return found
        }
        try {
          const result = await engine.bulkActOnWorkflowExecutions({
            action: "cancel",
            filters: { transaction_id: run.transaction_id },
          })
          expect(reads).toBeGreaterThanOrEqual(2)
          expect(result.outcomes).toEqual([
            expect.objectContaining({
              id: run.id,
              outcome: "skipped",
              reason: "already_finished",
            }),
          ])
        } finally {
          service.listWorkflowExecutions = list
        }
        expect(await stateOf(run.transaction_id)).toBe("done")
      })

      it("takes the list's resource_id filter: only the runs about that order", async () => {
        for (const [transactionId, order_id] of [
          ["about-a", "order_01BULKA"],
          ["about-b", "order_01BULKB"],
        ]) {
          await engine.run(BULK_WF, { input: { order_id }, transactionId })
        }
        const preview = await engine.bulkActOnWorkflowExecutions({
          action: "retry",
          filters: { resource_id: "order_01BULKA" },
          dryRun: true,
        })
        expect(preview).toMatchObject({ matched: 1, acted: 1 })
        expect(preview.outcomes[0].transaction_id).toBe("about-a")
      })

      it("refuses an unknown action and bad filters, naming the field, before any query", async () => {
        await expect(
          engine.bulkActOnWorkflowExecutions({ action: "rerun" } as any)
        ).rejects.toThrow(/"action" must be one of retry, cancel/)
        await expect(
          engine.bulkActOnWorkflowExecutions({
            action: "retry",
            filters: { state: "sleeping" },
          })
        ).rejects.toThrow(/"state" must be one of/)
        await expect(
          engine.bulkActOnWorkflowExecutions({
            action: "retry",
            filters: { colour: "red" },
          })
        ).rejects.toThrow(/"colour" is not a filterable field/)
      })

      it("skips a run answered while the bulk retry waits on another run: read again before it acts, it no longer waits", async () => {
        const [first, second] = await waitingRuns("meanwhile", 2)
        const lock = await db.transaction()
        let bulk: ReturnType<typeof engine.bulkActOnWorkflowExecutions>
        try {
          await lock.raw(
            `SELECT 1 FROM workflow_execution WHERE id = ? FOR UPDATE`,
            [first.id]
          )
          // Both runs are read in one batch; the retry of the first waits for the lock.
          bulk = engine.bulkActOnWorkflowExecutions({
            action: "retry",
            filters: { q: "meanwhile" },
          })
          await waitUntil(async () => (await lockWaiters(db)) === 1)
          await engine.setStepSuccess(answer(second.transaction_id))
          await waitUntil(
            async () => (await stateOf(second.transaction_id)) === "done"
          )
        } finally {
          await lock.commit()
        }
        const result = await bulk!
        expect(result.outcomes.find((o) => o.id === first.id)?.outcome).toBe(
          "retried"
        )
        expect(result.outcomes.find((o) => o.id === second.id)).toMatchObject({
          outcome: "skipped",
          reason: "already_finished",
        })
        expect(invocations.get(second.transaction_id)).toBe(1)
      })

      it("skips a run whose step another caller answers between the bulk's read and its retry: checked under the row lock, never retried", async () => {
        const [run] = await waitingRuns("racing", 1)
        const lock = await db.transaction()
        let answered: Promise<unknown>
        let bulk: ReturnType<typeof engine.bulkActOnWorkflowExecutions>
        try {
          await lock.raw(
            `SELECT 1 FROM workflow_execution WHERE id = ? FOR UPDATE`,
            [run.id]
          )
          // The other caller's answer queues first for the run's lock…
          answered = engine.setStepSuccess(answer(run.transaction_id))
          await waitUntil(async () => (await lockWaiters(db)) === 1)
          // …then the bulk retry, which read the step still waiting.
          bulk = engine.bulkActOnWorkflowExecutions({
            action: "retry",
            filters: { transaction_id: run.transaction_id },
          })
          await waitUntil(async () => (await lockWaiters(db)) === 2)
        } finally {
          await lock.commit()
        }
        await answered!
        const result = await bulk!
        expect(result.outcomes).toEqual([
          expect.objectContaining({
            id: run.id,
            outcome: "skipped",
            reason: "answered_meanwhile",
          }),
        ])
        await waitUntil(
          async () => (await stateOf(run.transaction_id)) === "done"
        )
        expect(invocations.get(run.transaction_id)).toBe(1)
      })

      it("retries each waiting step once when two bulk retries run at the same time", async () => {
        const runs = await waitingRuns("twice", 4)
        const [a, b] = await Promise.all([
          engine.bulkActOnWorkflowExecutions({
            action: "retry",
            filters: { q: "twice" },
          }),
          engine.bulkActOnWorkflowExecutions({
            action: "retry",
            filters: { q: "twice" },
          }),
        ])
        expect(a.acted + b.acted).toBe(4)
        expect(a.skipped + b.skipped).toBe(4)
        await waitUntil(() =>
          runs.every((run) => invocations.get(run.transaction_id) === 2)
        )
        expect(runs.map((run) => invocations.get(run.transaction_id))).toEqual([
          2, 2, 2, 2,
        ])
      })
    })

    describe("keeping a run from the purge", () => {
      async function expiredRun(transactionId: string): Promise<string> {
        await engine.run(WF.storedThreeSteps, {
          input: { value: 1 },
          transactionId,
        })
        const { rows } = await db.raw(
          `UPDATE workflow_execution SET expires_at = now() - interval '1 hour'
            WHERE transaction_id = ? RETURNING id`,
          [transactionId]
        )
        return rows[0].id
      }

      it("skips a kept run past its expiry, says so in the dry run and the audit, and purges it after the undo", async () => {
        const id = await expiredRun("kept-1")
        const kept = await engine.keepWorkflowExecution(id, {
          reason: "chargeback evidence",
          keptBy: "user_keeper",
        })
        expect(kept).toMatchObject({
          id,
          kept_by: "user_keeper",
          kept_reason: "chargeback evidence",
        })

        const preview = await engine.purgeExpiredExecutions({ dryRun: true })
        expect(preview).toMatchObject({ would_delete: 0, skipped_kept: 1 })
        const pass = await engine.purgeExpiredExecutions()
        expect(pass).toMatchObject({ deleted: 0, skipped_kept: 1 })
        const [audit] = await engine.listWorkflowExecutionPurges({
          id: pass.id,
        })
        expect(audit.skipped_kept).toBe(1)
        expect(await stateOf("kept-1")).toBe("done")

        // Read through the ORM (an $or) and directly (by id): a kept run's expires_at of infinity reads as no date.
        for (const filters of [{ $or: [{ id }] }, { id }]) {
          const [listed] = await engine.listWorkflowExecutions(filters as any)
          expect(listed).toMatchObject({
            kept_by: "user_keeper",
            kept_reason: "chargeback evidence",
          })
          expect(JSON.parse(JSON.stringify(listed)).expires_at).toBeNull()
        }

        const storage = await engine.retrieveExecutionStorage()
        expect(storage.kept).toEqual({ executions: 1, expired: 1 })
        const retention = await engine.retrieveExecutionRetention(id)
        expect(retention).toMatchObject({
          expired: false,
          kept: { by: "user_keeper", reason: "chargeback evidence" },
        })

        await engine.unkeepWorkflowExecution(id)
        const after = await engine.purgeExpiredExecutions()
        expect(after).toMatchObject({ deleted: 1, skipped_kept: 0 })
        expect(await stateOf("kept-1")).toBeUndefined()
      })

      it("refuses to keep a run in flight, and an unknown id", async () => {
        const [run] = await waitingRuns("keep-flight", 1)
        await expect(
          engine.keepWorkflowExecution(run.id, { reason: "why not" })
        ).rejects.toThrow(/Only a finished execution can be kept/)
        await expect(
          engine.keepWorkflowExecution("wf_exec_missing", { reason: "x" })
        ).rejects.toThrow(/was not found/)
        await expect(
          engine.keepWorkflowExecution(run.id, { reason: " " })
        ).rejects.toThrow(/"reason" must be a non-empty string/)
        await expect(
          engine.unkeepWorkflowExecution("wf_exec_missing")
        ).rejects.toThrow(/No kept WorkflowExecution/)
      })
    })
  }),
})
