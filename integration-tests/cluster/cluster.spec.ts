import { moduleIntegrationTestRunner } from "../modules/__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  waitUntil,
  withInsertsHeld,
  within,
} from "../modules/__fixtures__/engine"
import { readLog } from "./__fixtures__/cluster-log"
import {
  ANSWERED_STEP,
  CLUSTER_WF,
  QUIET_STEP,
} from "./__fixtures__/cluster-workflows-ids"
import { RunReply } from "./__fixtures__/instance-commands"
import { FaultyProxy } from "./__fixtures__/faulty-proxy"
import { ask, Instance, kill } from "./__fixtures__/instances"
import { instanceProcesses } from "./__fixtures__/instance-suite"

jest.setTimeout(180000)

/*
 * Several engine instances, each its own OS process, on one database. The
 * runner's own engine is stopped at once: only the instance processes run
 * timers and schedules here.
 */
moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: ({ service: engine, medusaApp, dbConfig }) => {
    const db = () => knexOf(medusaApp)
    const start = instanceProcesses(engine, db, () => dbConfig.clientUrl)
    const logOf = (kind: string) => readLog(db(), kind)
    const stateOf = async (transactionId: string) =>
      (
        await db().raw(
          `SELECT state, execution, awaited_steps, owner_instance_id FROM workflow_execution WHERE transaction_id = ?`,
          [transactionId]
        )
      ).rows[0]

    it("runs a per-second job once per tick across 3 instances, while one is SIGKILLed and another starts", async () => {
      const [a] = await Promise.all([start("a"), start("b"), start("c")])
      await waitUntil(async () => (await logOf("tick")).length >= 6, 60000)

      await kill(a)
      await start("d")
      const killedAt = (await logOf("tick")).length
      await waitUntil(
        async () => (await logOf("tick")).length >= killedAt + 12,
        90000
      )

      const ticks = await logOf("tick")
      const perTick = new Map<string, number>()
      ticks.forEach(({ key }) => perTick.set(key, (perTick.get(key) ?? 0) + 1))
      // Every tick ran exactly once, on whichever instance claimed it.
      expect([...perTick.entries()].filter(([, count]) => count !== 1)).toEqual(
        []
      )
      expect(new Set(ticks.map((t) => t.instance)).size).toBeGreaterThan(1)
      // Ticks are whole seconds, one after the other: none was skipped for the kill but the ones no instance was due for.
      const seconds = [...perTick.keys()]
        .map((key) => Date.parse(key) / 1000)
        .sort((x, y) => x - y)
      const gaps = seconds.slice(1).map((s, i) => s - seconds[i])
      expect(Math.max(...gaps)).toBeLessThanOrEqual(3)
    })

    it("runs the retry of a step whose instance was SIGKILLed after its first attempt, on another instance", async () => {
      await start("survivor")
      const starter = await start("starter", {
        START_RUN: `${CLUSTER_WF.retry}:retry-after-kill`,
      })
      await waitUntil(async () => (await logOf("attempt")).length === 1)
      await kill(starter)

      await waitUntil(
        async () => (await stateOf("retry-after-kill"))?.state === "done",
        30000
      )
      expect(await logOf("attempt")).toEqual([
        { key: "retry-after-kill", instance: "starter" },
        { key: "retry-after-kill", instance: "survivor" },
      ])
    })

    // A handler still at work when its process exits is cut (its step is failed by recovery, see recovery-plan);
    // one that returned at once is noted before the run call returns.
    it("leaves waiting the async step of a run whose process exited right after starting it, as a medusa exec script does", async () => {
      await start("survivor")
      await start("script", {
        START_RUN: `${CLUSTER_WF.quietAnswer}:started-by-script`,
        EXIT_AFTER_RUN: "1",
      })
      // The script's lease runs out; the survivor's recovery leaves the run to whoever answers it.
      await waitUntil(
        async () =>
          (await stateOf("started-by-script"))?.owner_instance_id === null,
        30000
      )
      expect(await stateOf("started-by-script")).toMatchObject({
        state: "invoking",
        awaited_steps: [expect.stringMatching(/#1$/)],
      })
      await start("answerer", {
        STEP_SUCCESS: `${CLUSTER_WF.quietAnswer}:started-by-script:${QUIET_STEP}`,
      })
      await waitUntil(
        async () => (await stateOf("started-by-script"))?.state === "done",
        30000
      )
    })

    it("times out an async step whose instance was SIGKILLed, on another instance, as without the kill", async () => {
      await start("survivor")
      const starter = await start("starter", {
        START_RUN: `${CLUSTER_WF.timeout}:timeout-after-kill`,
      })
      await waitUntil(async () => (await logOf("started")).length === 1)
      // Its handler returned and was noted: the step awaits its answer, and its timeout applies (see storage/awaited-steps).
      await waitUntil(
        async () =>
          (await stateOf("timeout-after-kill"))?.awaited_steps?.length === 1
      )
      await kill(starter)

      await waitUntil(
        async () =>
          ["reverted", "failed"].includes(
            (await stateOf("timeout-after-kill"))?.state
          ),
        30000
      )
      const { execution } = await stateOf("timeout-after-kill")
      expect(execution.steps["_root.cluster-never-answered"].invoke.state).toBe(
        "timeout"
      )
    })

    it("takes over 50 runs in flight of a SIGKILLed instance: background steps run again, lost synchronous progress fails and is compensated", async () => {
      const doomed = await start("doomed", {
        START_RUNS: `${CLUSTER_WF.background}:bg:25,${CLUSTER_WF.sync}:sync:25,${CLUSTER_WF.answer}:waits:3`,
      })
      await waitUntil(async () => (await logOf("started")).length === 53, 60000)
      // The answered workflow's handlers returned and were noted: those runs wait for their answers (see storage/awaited-steps).
      const awaiting = async () =>
        (
          await db().raw(
            `SELECT count(*)::int AS n FROM workflow_execution WHERE workflow_id = ? AND cardinality(awaited_steps) = 1`,
            [CLUSTER_WF.answer]
          )
        ).rows[0].n
      await waitUntil(async () => (await awaiting()) === 3)
      await kill(doomed)
      await start("survivor")

      const states = async () =>
        (
          await db().raw(
            `SELECT transaction_id, state, context, execution FROM workflow_execution
              WHERE workflow_id IN (?, ?) ORDER BY transaction_id`,
            [CLUSTER_WF.background, CLUSTER_WF.sync]
          )
        ).rows
      await waitUntil(
        async () =>
          (await states()).every((row: any) =>
            ["done", "reverted", "failed"].includes(row.state)
          ),
        30000
      )
      const rows = await states()
      expect(rows).toHaveLength(50)

      const background = rows.filter((row: any) =>
        row.transaction_id.startsWith("bg-")
      )
      expect(background.map((row: any) => row.state)).toEqual(
        Array(25).fill("done")
      )
      expect(
        background.map(
          (row: any) =>
            row.execution.steps["_root.cluster-in-background"].invoke.state
        )
      ).toEqual(Array(25).fill("done"))

      const sync = rows.filter((row: any) =>
        row.transaction_id.startsWith("sync-")
      )
      expect(sync.map((row: any) => row.state)).toEqual(
        Array(25).fill("reverted")
      )
      for (const row of sync) {
        expect(row.context.errors).toEqual([
          expect.objectContaining({
            // Stored at its start and end only, the run's checkpoint shows its first step as the next to run.
            action: "cluster-reserve",
            error: expect.objectContaining({
              message: expect.stringMatching(
                /instance wf_inst_\w+ .*died after the run's last stored checkpoint, which shows step "cluster-reserve" as the next to run/
              ),
            }),
          }),
        ])
      }
      // The failed step is compensated once per run, as Medusa compensates a step that threw; its output
      // was never stored, so its compensation gets none.
      expect((await logOf("compensated")).map((entry) => entry.key)).toEqual(
        Array(25).fill("none")
      )
      // Nothing is left owned by the dead instance, and its lease row is gone.
      // (Reaped at the end of a recovery pass: the leases of instances killed by the tests before may run out after it.)
      const deadLeases = async () =>
        (
          await db().raw(
            `SELECT count(*)::int AS n FROM workflow_engine_instance WHERE lease_expires_at <= now()`
          )
        ).rows[0].n
      await waitUntil(async () => (await deadLeases()) === 0, 10000)

      // Runs waiting for an answer lost nothing: they wait on, owned by nobody, and any instance's answer finishes them.
      const waiting = await db().raw(
        `SELECT state, owner_instance_id FROM workflow_execution WHERE workflow_id = ? ORDER BY transaction_id`,
        [CLUSTER_WF.answer]
      )
      expect(waiting.rows).toEqual(
        Array(3).fill({ state: "invoking", owner_instance_id: null })
      )
      await start("answerer", {
        STEP_SUCCESS: `${CLUSTER_WF.answer}:waits-1:${ANSWERED_STEP}`,
      })
      await waitUntil(async () => (await stateOf("waits-1"))?.state === "done")
    })

    describe("two starts of one transaction id, one on each instance", () => {
      const runOn = (instance: Instance, transactionId: string) =>
        ask<RunReply>(instance, {
          run: { workflowId: CLUSTER_WF.startedOnce, transactionId },
        })
      const refused = (transactionId: string): RunReply => ({
        thrown: `Transaction already started for transactionId: ${transactionId}`,
      })
      const statesOf = async (transactionId: string) =>
        (
          await db().raw(
            `SELECT state FROM workflow_execution WHERE transaction_id = ?`,
            [transactionId]
          )
        ).rows.map((row: { state: string }) => row.state)

      it("runs one and refuses the other when both start at the same moment (the unique index decides)", async () => {
        const both = await Promise.all([start("a"), start("b")])
        const transactionId = "started-on-both"
        const replies = await withInsertsHeld(db(), 2, async () =>
          both.map((instance) => runOn(instance, transactionId))
        )

        // The run's step waits to be released, so the first reply is the refused start's.
        const first = await within(
          Promise.race(
            replies.map((reply, index) =>
              reply.then((value) => ({ index, value }))
            )
          ),
          20000,
          "a refused start"
        )
        expect(first.value).toEqual(refused(transactionId))
        const winner = both[1 - first.index]
        await ask(winner, { release: transactionId })
        expect(await replies[1 - first.index]).toEqual({
          state: "done",
          errors: [],
        })

        expect(await logOf("started")).toEqual([
          { key: transactionId, instance: winner.name },
        ])
        expect(await statesOf(transactionId)).toEqual(["done"])
      })

      it("refuses a start on one instance while the run's step runs on the other", async () => {
        const [a, b] = await Promise.all([start("a"), start("b")])
        const transactionId = "started-while-running"
        const first = runOn(a, transactionId)
        await waitUntil(async () => (await logOf("started")).length === 1)

        expect(
          await within(runOn(b, transactionId), 20000, "the second start")
        ).toEqual(refused(transactionId))
        await ask(a, { release: transactionId })
        expect(await first).toEqual({ state: "done", errors: [] })

        expect(await logOf("started")).toEqual([
          { key: transactionId, instance: "a" },
        ])
        expect(await statesOf(transactionId)).toEqual(["done"])
      })
    })

    describe("subscribe() on one instance, setStepSuccess on another", () => {
      const answerOn = async (
        transactionId: string,
        { dropListeners }: { dropListeners: boolean }
      ) => {
        await start("listener", {
          START_RUN: `${CLUSTER_WF.answer}:${transactionId}`,
          SUBSCRIBE: `${CLUSTER_WF.answer}:${transactionId}`,
        })
        await waitUntil(
          async () => (await stateOf(transactionId))?.state === "invoking"
        )
        if (dropListeners) {
          // Cut every LISTEN connection, as a network failure would; the answer comes during the gap.
          await db().raw(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'medusa-workflow-engine-listener'`
          )
        }
        await start("answerer", {
          STEP_SUCCESS: `${CLUSTER_WF.answer}:${transactionId}:${ANSWERED_STEP}`,
        })
        await waitUntil(async () => (await logOf("heard")).length === 1, 30000)
        expect(await logOf("heard")).toEqual([
          { key: `${transactionId}:done`, instance: "listener" },
        ])
        expect((await stateOf(transactionId)).state).toBe("done")
      }

      it("delivers onFinish to the subscriber", async () => {
        await answerOn("answered-elsewhere", { dropListeners: false })
      })

      it("still delivers onFinish after its listening connection was cut (it reconnects by itself)", async () => {
        await answerOn("answered-during-gap", { dropListeners: true })
      })

      it("still delivers onFinish after its listening connection went silent (the heartbeat notices, it reconnects)", async () => {
        // The listener's connection goes through a proxy that stops passing anything, with no error at either end.
        const proxy = await FaultyProxy.start()
        try {
          const transactionId = "answered-while-deaf"
          const listener = await start("listener", {
            START_RUN: `${CLUSTER_WF.answer}:${transactionId}`,
            SUBSCRIBE: `${CLUSTER_WF.answer}:${transactionId}`,
            DIRECT_DATABASE_URL: proxy.url(TEST_DATABASE),
          })
          await waitUntil(
            async () => (await stateOf(transactionId))?.state === "invoking"
          )
          proxy.freeze()
          await start("answerer", {
            STEP_SUCCESS: `${CLUSTER_WF.answer}:${transactionId}:${ANSWERED_STEP}`,
          })
          await waitUntil(
            async () => (await logOf("heard")).length === 1,
            30000
          ).catch((error) => {
            throw new Error(`${error}\n${listener.output()}`)
          })
          expect(await logOf("heard")).toEqual([
            { key: `${transactionId}:done`, instance: "listener" },
          ])
          expect(listener.output()).toMatch(
            /LISTEN connection was lost \(Error: no heartbeat within \d+ ms\)/
          )
        } finally {
          await proxy.close()
        }
      })
    })
  },
})
