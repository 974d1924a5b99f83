import { moduleIntegrationTestRunner } from "../modules/__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  waitUntil,
} from "../modules/__fixtures__/engine"
import { readLog } from "./__fixtures__/cluster-log"
import { CUT_STEP, CUT_WF } from "./__fixtures__/cut-workflows-ids"
import { ask, Instance, kill } from "./__fixtures__/instances"
import { instanceProcesses } from "./__fixtures__/instance-suite"

jest.setTimeout(300000)

type Run = {
  workflowId: string
  transactionId: string
  /** the step (or compensation) that was running when its instance was killed: the one that may run twice */
  cut?: string
  /** how the run must end */
  ends: "done" | "reverted" | "not stored"
  /** what its errors must say, when it does not end done */
  reason?: RegExp
}

const DIED = /Workflow engine instance wf_inst_\w+ .*died/
const TIMED_OUT = /timed out|timeout/i
const FINISHED = ["done", "failed", "reverted"]

/*
 * Runs killed at any moment. Each round starts an instance named "doomed"
 * (its steps may hang, see cut-workflows), brings its runs to a chosen point,
 * and SIGKILLs it there: mid-step, after a retry was scheduled, while
 * compensating, right after the first row was committed, before it, and
 * between a checkpoint and the timer that should follow it. A precise moment
 * between two statements is made by holding a lock the second statement
 * waits for, killing the process, and (for "before") ending its waiting
 * backend so that the statement never commits. A survivor instance recovers
 * everything; afterwards every stored run has ended with a reason, and no
 * step ran twice but the one that was cut.
 */
moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: ({ service: engine, medusaApp, dbConfig }) => {
    const db = (): Knex => knexOf(medusaApp)
    const start = instanceProcesses(engine, db, () => dbConfig.clientUrl)

    /** Starts a run on an instance; the doomed one never answers, so nothing waits for the reply. */
    const startRun = (
      instance: Instance,
      run: Pick<Run, "workflowId" | "transactionId">
    ) => {
      const reply = ask(instance, {
        run: { workflowId: run.workflowId, transactionId: run.transactionId },
      })
      reply.catch(() => undefined)
      return reply
    }
    const answer = (
      instance: Instance,
      run: Pick<Run, "workflowId" | "transactionId">,
      stepId: string
    ) =>
      ask(instance, {
        stepSuccess: {
          workflowId: run.workflowId,
          transactionId: run.transactionId,
          stepId,
        },
      })
    const invocations = async (
      run: Pick<Run, "transactionId">,
      step: string,
      kind = "invoke"
    ) =>
      (await readLog(db(), kind)).filter(
        (entry) => entry.key === `${run.transactionId}|${step}`
      )
    const rowOf = async (transactionId: string) =>
      (
        await db().raw(
          `SELECT state, context, execution FROM workflow_execution WHERE transaction_id = ?`,
          [transactionId]
        )
      ).rows[0]
    const awaited = async (
      run: Pick<Run, "transactionId">
    ): Promise<string[]> =>
      (
        await db().raw(
          `SELECT awaited_steps FROM workflow_execution WHERE transaction_id = ?`,
          [run.transactionId]
        )
      ).rows[0]?.awaited_steps ?? []
    const timersOf = async (transactionId: string) =>
      (
        await db().raw(
          `SELECT kind FROM workflow_execution_timer WHERE transaction_id = ?`,
          [transactionId]
        )
      ).rows.map((row: { kind: string }) => row.kind)
    // Backends of this database waiting for a lock in a statement that starts as `pattern` (a regular
    // expression: pg_stat_activity keeps only a statement's first 1024 bytes).
    const waitingOn = async (pattern: string) =>
      (
        await db().raw(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ~ ?`,
          [pattern]
        )
      ).rows[0].n
    const INSERT_RUN = `^\\s*INSERT INTO "workflow_execution"\\s`
    // A timer set alone, or by the checkpoint write that carries it (held-checkpoints), whose timer CTE comes
    // right after the run's UPDATE: the end's, which deletes timers, does not match.
    const SET_TIMER = `INSERT INTO "workflow_execution_timer"`

    /**
     * Holds `table` in SHARE mode (reads go on, writes wait), runs `work`, and
     * once `statements` writes matching `pattern` wait for it, kills the
     * doomed instance. With `before`, the waiting statements' backends are
     * ended too: they never commit, as if the process died before sending
     * them. Otherwise they commit once the lock goes: the process died right
     * after them.
     */
    const killAtWrite = async (
      doomed: Instance,
      {
        table,
        pattern,
        statements,
        before,
      }: {
        table: string
        pattern: string
        statements: number
        before: boolean
      },
      work: () => Promise<void>
    ) => {
      const lock = await db().transaction()
      try {
        await lock.raw(`LOCK TABLE "${table}" IN SHARE MODE`)
        await work()
        // The doomed instance gets to its write in its own time: on a loaded machine that has taken over 30 s.
        await waitUntil(
          async () => (await waitingOn(pattern)) === statements,
          90000
        )
        await kill(doomed)
        if (before) {
          await db().raw(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ~ ?`,
            [pattern]
          )
          await waitUntil(async () => (await waitingOn(pattern)) === 0)
        }
      } finally {
        await lock.commit()
      }
    }

    it("takes over every run killed at any moment: each ends with a reason, no step but the cut one runs twice", async () => {
      const survivor = await start("survivor")
      const runs: Run[] = []
      const of = (
        workflowId: string,
        transactionId: string,
        ends: Run["ends"],
        extra: Partial<Run> = {}
      ) => {
        const run: Run = { workflowId, transactionId, ends, ...extra }
        runs.push(run)
        return run
      }

      // 1. Mid-step, after a retry was scheduled, while waiting for answers, while compensating.
      let doomed = await start("doomed")
      const midCharge = of(CUT_WF.retry, "hang-charge", "done", {
        cut: CUT_STEP.charge,
      })
      const midSlow = of(CUT_WF.stepTimeout, "hang-slow", "reverted", {
        cut: CUT_STEP.slow,
        reason: DIED,
      })
      const unanswered = of(
        CUT_WF.asyncTimeout,
        "wait-unanswered",
        "reverted",
        { reason: TIMED_OUT }
      )
      const answeredLater = of(CUT_WF.asyncTimeout, "wait-answered", "done")
      const askedInTime = of(CUT_WF.transactionTimeout, "wait-in-time", "done")
      const midCompensation = of(
        CUT_WF.compensating,
        "comphang-reserve",
        "reverted",
        {
          cut: `compensate:${CUT_STEP.reserve}`,
          reason: /refused comphang-reserve/,
        }
      )
      const retryScheduled = of(CUT_WF.retry, "failonce-scheduled", "done", {
        cut: CUT_STEP.charge,
      })
      for (const run of [
        midCharge,
        midSlow,
        unanswered,
        answeredLater,
        askedInTime,
        midCompensation,
        retryScheduled,
      ]) {
        void startRun(doomed, run)
      }
      await ask(doomed, { release: retryScheduled.transactionId })
      await waitUntil(
        async () => (await invocations(midCharge, CUT_STEP.charge)).length === 1
      )
      await waitUntil(
        async () => (await invocations(midSlow, CUT_STEP.slow)).length === 1
      )
      // Their handlers returned, and the storage noted it: they wait for an answer (an unnoted one would be failed).
      for (const run of [unanswered, answeredLater, askedInTime]) {
        await waitUntil(async () => (await awaited(run)).length === 1)
      }
      await waitUntil(
        async () =>
          (await invocations(midCompensation, CUT_STEP.reserve, "compensate"))
            .length === 1
      )
      await waitUntil(async () =>
        (await timersOf(retryScheduled.transactionId)).includes("retry")
      )
      await kill(doomed)
      // Answered from the survivor once the recovery has taken the waiting runs from the dead instance.
      const owned = async (run: Run) =>
        (
          await db().raw(
            `SELECT owner_instance_id FROM workflow_execution WHERE transaction_id = ?`,
            [run.transactionId]
          )
        ).rows[0].owner_instance_id
      const deadOwner = await owned(answeredLater)
      await waitUntil(
        async () =>
          (await owned(answeredLater)) !== deadOwner &&
          (await owned(askedInTime)) !== deadOwner,
        30000
      )
      await answer(survivor, answeredLater, CUT_STEP.askBeforeTimeout)
      await answer(survivor, askedInTime, CUT_STEP.ask)

      // 2. Right after the first row was committed: the start's insert waits, the process dies, the insert commits.
      doomed = await start("doomed")
      const afterFirstRow = Object.values(CUT_WF).map((workflowId) =>
        of(workflowId, `row-${workflowId}`, "reverted", { reason: DIED })
      )
      await killAtWrite(
        doomed,
        {
          table: "workflow_execution",
          pattern: INSERT_RUN,
          statements: afterFirstRow.length,
          before: false,
        },
        async () => {
          afterFirstRow.forEach((run) => void startRun(doomed, run))
        }
      )

      // 3. Before the first row: the insert never commits; nothing of the run is stored, and its caller was told nothing.
      doomed = await start("doomed")
      const beforeFirstRow = Object.values(CUT_WF).map((workflowId) =>
        of(workflowId, `norow-${workflowId}`, "not stored")
      )
      await killAtWrite(
        doomed,
        {
          table: "workflow_execution",
          pattern: INSERT_RUN,
          statements: beforeFirstRow.length,
          before: true,
        },
        async () => {
          beforeFirstRow.forEach((run) => void startRun(doomed, run))
        }
      )

      // 4. The process dies as the failed attempt and its retry's timer are being stored: the statement that
      //    writes both (the checkpoint the call held, see held-checkpoints) never commits.
      doomed = await start("doomed")
      const retryNotScheduled = of(
        CUT_WF.retry,
        "failonce-unscheduled",
        "done",
        { cut: CUT_STEP.charge }
      )
      void startRun(doomed, retryNotScheduled)
      await waitUntil(
        async () =>
          (await invocations(retryNotScheduled, CUT_STEP.charge)).length === 1
      )
      await killAtWrite(
        doomed,
        {
          table: "workflow_execution_timer",
          pattern: SET_TIMER,
          statements: 1,
          before: true,
        },
        async () => {
          await ask(doomed, { release: retryNotScheduled.transactionId })
        }
      )

      // 5. The first row and the transaction timeout's timer are stored, the process dies before the first step's checkpoint.
      doomed = await start("doomed")
      const timeoutOnly = of(
        CUT_WF.transactionTimeout,
        "timer-transaction",
        "reverted",
        { reason: DIED }
      )
      await killAtWrite(
        doomed,
        {
          table: "workflow_execution_timer",
          pattern: SET_TIMER,
          statements: 1,
          before: false,
        },
        async () => {
          void startRun(doomed, timeoutOnly)
        }
      )

      // Runs no crash touched, on the survivor meanwhile: each of their steps runs once.
      const untouched = [
        of(CUT_WF.retry, "ok-retry", "done"),
        of(CUT_WF.stepTimeout, "ok-step-timeout", "done"),
        of(CUT_WF.compensating, "ok-compensating", "reverted", {
          reason: /refused ok-compensating/,
        }),
      ]
      await Promise.all(untouched.map((run) => startRun(survivor, run)))

      const stored = runs.filter((run) => run.ends !== "not stored")
      const unfinished = async () => {
        const left: string[] = []
        for (const run of stored) {
          const row = await rowOf(run.transactionId)
          if (!FINISHED.includes(row?.state)) {
            left.push(
              `${run.transactionId}: ${row?.state} ${JSON.stringify(row?.execution?.steps ?? {})}`
            )
          }
        }
        return left
      }
      await waitUntil(
        async () => (await unfinished()).length === 0,
        60000
      ).catch(async (error) => {
        throw new Error(
          `${error}; still in flight:\n${(await unfinished()).join("\n")}\n${survivor.output()}`
        )
      })

      for (const run of runs) {
        const row = await rowOf(run.transactionId)
        if (run.ends === "not stored") {
          expect([run.transactionId, row]).toEqual([
            run.transactionId,
            undefined,
          ])
          continue
        }
        expect([run.transactionId, row.state]).toEqual([
          run.transactionId,
          run.ends,
        ])
        if (run.reason) {
          const messages = row.context.errors.map(
            (error: any) => `${error.error?.name}: ${error.error?.message}`
          )
          expect([
            run.transactionId,
            messages.some((message: string) => run.reason!.test(message)),
          ]).toEqual([run.transactionId, true])
        }
      }

      // No step ran twice but the one its instance died in (or the cut compensation).
      const log = [
        ...(await readLog(db(), "invoke")),
        ...(await readLog(db(), "compensate")).map((entry) => ({
          ...entry,
          key: entry.key.replace("|", "|compensate:"),
        })),
      ]
      const counts = new Map<string, number>()
      log.forEach(({ key }) => counts.set(key, (counts.get(key) ?? 0) + 1))
      const twice = [...counts.entries()].filter(([key, count]) => {
        const [transactionId, step] = key.split("|")
        const run = runs.find(
          (candidate) => candidate.transactionId === transactionId
        )!
        return count > (run.cut === step ? 2 : 1)
      })
      expect(twice).toEqual([])
      expect(survivor.output()).not.toMatch(/unhandled|TypeError/i)
    })
  },
})
