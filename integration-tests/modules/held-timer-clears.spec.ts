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
import { DurableTimers } from "../../src/modules/workflow-engine/timers/durable-timers"
import { completeTimer } from "../../src/modules/workflow-engine/timers/sql/delete-timer"
import { upsertTimer } from "../../src/modules/workflow-engine/timers/sql/upsert-timer"
import {
  TimerKind,
  TimerSpec,
} from "../../src/modules/workflow-engine/timers/timer-spec"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  recordingLogger,
  recordSql,
  rowsOf,
  stepSuccess,
  TEST_DATABASE,
  waitUntil,
  withEngineShutdown,
} from "./__fixtures__/engine"

/*
 * The clears of a run's timers made while the engine fires one of its timers
 * or applies an answer are held: written by the run's next checkpoint write
 * in that call, with the fired timer's removal, else sent once the call is
 * done, or not at all when the run's end, which removes every timer of the
 * run, was stored meanwhile.
 */

jest.setTimeout(60000)

const RETRY_THEN_WAIT = "test-held-retry-then-wait"
const FAILS_ONCE = "test-held-fails-once"
const WAITS = "test-held-waits"
const TWO_WAITS = "test-held-two-waits"
const TIMED_WAIT = "test-held-timed-wait"
const LAST_WAIT = "test-held-last-wait"

const failures: Record<string, number> = {}
const failsOnce = createStep(
  { name: FAILS_ONCE, maxRetries: 1, retryInterval: 1 },
  async (_: void, { context }) => {
    const id = context!.transactionId!
    failures[id] = (failures[id] ?? 0) + 1
    if (failures[id] === 1) {
      throw new Error("first attempt fails")
    }
    return new StepResponse(failures[id])
  }
)
const waits = createStep(
  { name: WAITS, async: true, timeout: 60 },
  async () => {}
)
createWorkflow(
  { name: RETRY_THEN_WAIT, store: true, retentionTime: 3600 },
  () => {
    failsOnce()
    waits()
    return new WorkflowResponse("done")
  }
)

const timedWait = createStep(
  { name: TIMED_WAIT, async: true, timeout: 60 },
  async () => {}
)
const lastWait = createStep({ name: LAST_WAIT, async: true }, async () => {})
createWorkflow({ name: TWO_WAITS, store: true, retentionTime: 3600 }, () => {
  timedWait()
  lastWait()
  return new WorkflowResponse("done")
})

const timerDeletes = (statements: string[]) =>
  statements.filter((sql) => /DELETE FROM "workflow_execution_timer"/.test(sql))
    .length
// Statements that only remove timers: a fired one's removal, a clear.
const timerDeletesApart = (statements: string[]) =>
  statements.filter((sql) =>
    /^\s*(DELETE FROM|WITH "(cleared|fence)" AS)/.test(sql)
  ).length
// Checkpoint writes that remove timers the call fired or cleared.
const carryingWrites = (statements: string[]) =>
  statements.filter((sql) => sql.includes(`"timers_completed" AS`)).length

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    let db: Knex
    beforeEach(() => {
      db = knexOf(medusaApp)
    })

    // Each timer as its kind and its step's name (a step's id is the path of the steps before it).
    const timersOf = async (transactionId: string) =>
      (
        await db.raw(
          `SELECT "kind", "step_id" FROM "workflow_execution_timer" WHERE "transaction_id" = ? ORDER BY 1, 2`,
          [transactionId]
        )
      ).rows.map((row: { kind: string; step_id: string }) => [
        row.kind,
        row.step_id.split(".").pop(),
      ])
    const stateOf = async (transactionId: string, stepName: string) => {
      const steps = (await rowsOf(db, transactionId))[0]?.execution.steps ?? {}
      return Object.values(
        steps as Record<string, { id: string; invoke: { state: string } }>
      ).find((step) => step.id.endsWith(`.${stepName}`))?.invoke.state
    }

    const timerOf = (
      run: { workflowId: string; transactionId: string },
      key: string,
      kind: TimerKind
    ): TimerSpec => ({
      key,
      kind,
      workflow_id: run.workflowId,
      transaction_id: run.transactionId,
      step_id: "step",
      attempt: 1,
      metadata: {},
    })

    it("writes a retry's removal and its clears with the run's checkpoints, and an ending answer's not at all", async () => {
      const transactionId = "held-1"
      // The retry's run clears its retry timers, then waits for the answer.
      const retried = await recordSql(db, async () => {
        await engine.run(RETRY_THEN_WAIT, { transactionId })
        // Until the fired retry is removed and the step's timeout set.
        await waitUntil(
          async () =>
            JSON.stringify(await timersOf(transactionId)) ===
            JSON.stringify([["step_timeout", WAITS]])
        )
      })
      expect(await stateOf(transactionId, WAITS)).toBe("invoking")
      expect(failures[transactionId]).toBe(2)
      // The retried step invoking removes the fired retry; its end and the next step's start its clears.
      expect(timerDeletesApart(retried.statements)).toBe(0)
      expect(carryingWrites(retried.statements)).toBe(2)
      expect(await timersOf(transactionId)).toEqual([["step_timeout", WAITS]])

      // The answer clears the step's timeout, which the run's end removes anyway.
      const ended = await recordSql(db, () =>
        engine.setStepSuccess(
          stepSuccess(RETRY_THEN_WAIT, transactionId, WAITS)
        )
      )
      expect(timerDeletes(ended.statements)).toBe(1)
      expect((await rowsOf(db, transactionId))[0].state).toBe("done")
      expect(await timersOf(transactionId)).toEqual([])
    })

    it("writes an answer's held clears with the run's next checkpoint, when the run goes on", async () => {
      const transactionId = "held-2"
      await engine.run(TWO_WAITS, { transactionId })
      expect(await timersOf(transactionId)).toEqual([
        ["step_timeout", TIMED_WAIT],
      ])

      const answered = await recordSql(db, () =>
        engine.setStepSuccess(stepSuccess(TWO_WAITS, transactionId, TIMED_WAIT))
      )
      expect(timerDeletesApart(answered.statements)).toBe(0)
      expect(carryingWrites(answered.statements)).toBe(1)
      expect(await stateOf(transactionId, LAST_WAIT)).toBe("invoking")
      expect(await timersOf(transactionId)).toEqual([])
    })

    it("removes a fired timer and the clears held with it in one statement, and only the claim fired", async () => {
      const run = { workflowId: "held-clears", transactionId: "held-3" }
      const timer = (key: string, kind: TimerKind) => timerOf(run, key, kind)
      const firedAt = await upsertTimer(
        db,
        timer("held-fired", "retry"),
        60000,
        "this-instance"
      )
      await upsertTimer(db, timer("held-cleared", "step_timeout"), 60000, null)
      await upsertTimer(db, timer("held-kept", "step_timeout"), 60000, null)

      const { statements } = await recordSql(db, () =>
        completeTimer(db, "held-fired", firedAt!, "this-instance", {
          run,
          keys: ["held-cleared"],
          fence: { run_id: "any", epoch: 1 },
        })
      )
      expect(statements).toHaveLength(1)
      expect(
        (
          await db.raw(
            `SELECT "key" FROM "workflow_execution_timer" WHERE "workflow_id" = ? ORDER BY 1`,
            [run.workflowId]
          )
        ).rows.map((row: { key: string }) => row.key)
      ).toEqual(["held-kept"])
    })

    it("keeps a timer that one call of its run set again while another call of the run held a clear of it", async () => {
      // Two calls of one run overlap in one process: an answer, and the firing of one of the run's timers.
      const timers = new DurableTimers(
        db,
        recordingLogger(),
        {
          instanceId: "held-overlap",
          runsWork: false,
          pollIntervalMs: 60000,
          releaseDelayMs: 60000,
        },
        async () => true
      )
      const run = { workflowId: "held-clears", transactionId: "held-4" }
      const retry = timerOf(run, "held-overlap-retry", "retry")
      const fence = { run_id: "any", epoch: 1 }
      await upsertTimer(db, retry, 60000, null)

      let clearHeld!: () => void
      const held = new Promise<void>((resolve) => (clearHeld = resolve))
      let setAgain!: () => void
      const setElsewhere = new Promise<void>((resolve) => (setAgain = resolve))
      // The answer clears the retry, held until the answer is done, which is after the firing set it again.
      const answer = timers.holdingClears(run, async () => {
        expect(await timers.clear(run, [retry.key], fence)).toBe(true)
        clearHeld()
        await setElsewhere
      })
      const firing = timers.holdingClears(run, async () => {
        await held
        expect(await timers.set(retry, 120000, fence)).toBe(true)
        setAgain()
      })
      await Promise.all([answer, firing])

      const left = await db.raw(
        `SELECT "key", "due_at" > now() + interval '90 seconds' AS "set_again"
           FROM "workflow_execution_timer" WHERE "transaction_id" = ?`,
        [run.transactionId]
      )
      expect(left.rows).toEqual([{ key: retry.key, set_again: true }])

      // A clear held after the set still removes it.
      await timers.holdingClears(run, () =>
        timers.clear(run, [retry.key], fence)
      )
      expect(
        (
          await db.raw(
            `SELECT 1 FROM "workflow_execution_timer" WHERE "transaction_id" = ?`,
            [run.transactionId]
          )
        ).rows
      ).toEqual([])
    })

    // A run waiting at its timed step, its timeout's timer, and instance X (this process) to hold clears of it;
    // instance Y is another process, known here only by its statements.
    const waitingRun = async (transactionId: string) => {
      await engine.run(TWO_WAITS, { transactionId })
      const stored = async () =>
        (
          await db.raw(
            `SELECT "id", "run_id", "owner_epoch", "xmin"::text AS "version"
               FROM "workflow_execution" WHERE "transaction_id" = ?`,
            [transactionId]
          )
        ).rows[0]
      const { id, run_id, owner_epoch } = await stored()
      const timeout = (
        await db.raw(
          `SELECT "key", "kind", "workflow_id", "transaction_id", "step_id", "attempt", "metadata"
             FROM "workflow_execution_timer" WHERE "transaction_id" = ?`,
          [transactionId]
        )
      ).rows[0] as TimerSpec
      const x = new DurableTimers(
        db,
        recordingLogger(),
        {
          instanceId: "held-x",
          runsWork: false,
          pollIntervalMs: 60000,
          releaseDelayMs: 60000,
        },
        async () => true
      )
      return {
        run: { workflowId: TWO_WAITS, transactionId },
        fence: { run_id, epoch: owner_epoch },
        timeout,
        x,
        version: async (): Promise<string> => (await stored()).version,
        // A write of the run, as any writer's makes a new version of its row.
        touch: (trx: Knex | Knex.Transaction = db) =>
          trx.raw(
            `UPDATE "workflow_execution" SET "updated_at" = now() WHERE "id" = ?`,
            [id]
          ),
        timerLeft: async () =>
          (
            await db.raw(
              `SELECT "due_at" > now() + interval '90 seconds' AS "set_again"
                 FROM "workflow_execution_timer" WHERE "transaction_id" = ?`,
              [transactionId]
            )
          ).rows,
      }
    }

    it("sends a held clear only while the run is at the version its call last saw: another instance's write keeps the timer it set", async () => {
      const { run, fence, timeout, x, version, touch, timerLeft } =
        await waitingRun("held-5")

      // X's call clears the step's timeout, as seen at the run's version then; before X's call is done,
      // instance Y's call writes the run and sets the timeout again (X's own next write would be refused).
      const seenByX = await version()
      await x.holdingClears(run, async () => {
        expect(await x.clear(run, [timeout.key], fence, () => seenByX)).toBe(
          true
        )
        await touch()
        expect(
          await upsertTimer(db, timeout, 120000, "held-y", fence)
        ).toBeDefined()
      })
      expect(await timerLeft()).toEqual([{ set_again: true }])

      // A call whose last write is the row's version still clears: the run is as it left it.
      await x.holdingClears(run, async () => {
        await touch()
        const own = await version()
        expect(await x.clear(run, [timeout.key], fence, () => own)).toBe(true)
      })
      expect(await timerLeft()).toEqual([])
    })

    it("waits for a write of the run under way when its held clear is sent, and then leaves the timer that write set", async () => {
      const { run, fence, timeout, x, version, touch, timerLeft } =
        await waitingRun("held-6")
      const seenByX = await version()

      // Y's write of the run, with the timeout set again, has begun and not committed when X's clear is sent.
      const y = await db.transaction()
      let sent: Promise<void> | undefined
      try {
        await touch(y)
        await upsertTimer(y, timeout, 120000, "held-y", fence)
        sent = x.holdingClears(run, async () => {
          await x.clear(run, [timeout.key], fence, () => seenByX)
        })
        sent.catch(() => undefined)
        await waitUntil(
          async () =>
            (
              await db.raw(
                `SELECT 1 FROM pg_stat_activity
                  WHERE datname = current_database() AND wait_event_type = 'Lock'
                    AND query LIKE 'WITH "fence"%'`
              )
            ).rows.length === 1,
          30000,
          { what: "the held clear waiting for Y's write" }
        )
      } finally {
        await y.commit()
      }
      await sent
      expect(await timerLeft()).toEqual([{ set_again: true }])
    })

    it("removes the timer it fired but not the clears held with it, once another instance wrote the run", async () => {
      const { run, fence, timeout, version, touch, timerLeft } =
        await waitingRun("held-7")
      const fired: TimerSpec = {
        ...timeout,
        key: `${timeout.key}:fired`,
        kind: "retry",
      }
      const firedAt = await upsertTimer(db, fired, 60000, "held-x")
      const seenByX = await version()
      await touch()
      await upsertTimer(db, timeout, 120000, "held-y", fence)

      await completeTimer(db, fired.key, firedAt!, "held-x", {
        run,
        keys: [timeout.key],
        fence,
        version: seenByX,
      })
      expect(await timerLeft()).toEqual([{ set_again: true }])
    })
  }),
})
