import { moduleIntegrationTestRunner } from "../modules/__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  waitUntil,
} from "../modules/__fixtures__/engine"
import { readLog } from "./__fixtures__/cluster-log"
import { Instance } from "./__fixtures__/instances"
import { instanceProcesses } from "./__fixtures__/instance-suite"
import { TIMER_WF } from "./__fixtures__/timer-workflows-ids"

jest.setTimeout(180000)

/*
 * Who fires a timer, and what tells it to, with engine instances as OS
 * processes (timer-instance.ts). Every instance polls the timers only every
 * ten minutes (POLL_MS, the most the option takes) and, where it matters,
 * holds a ten-minute lease: a run that ends within the deadline below, a
 * minute, was fired by what the test is about (an in-process timer, a
 * NOTIFY), not by a poll or a lease running out.
 */
const TEN_MINUTES = String(10 * 60 * 1000)
const DEADLINE_MS = 60000
const SCRIPT = "timer-instance.ts"

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: ({ service: engine, medusaApp, dbConfig }) => {
    const db = () => knexOf(medusaApp)
    const start = (
      name: string,
      env: Record<string, string>
    ): Promise<Instance> =>
      startProcess(name, { POLL_MS: TEN_MINUTES, ...env }, SCRIPT)
    const startProcess = instanceProcesses(engine, db, () => dbConfig.clientUrl)
    const attemptsOf = async (key: string) =>
      (await readLog(db(), "attempt"))
        .filter((entry) => entry.key === key)
        .map((entry) => entry.instance)
    const stateOf = async (transactionId: string) =>
      (
        await db().raw(
          `SELECT state FROM workflow_execution WHERE transaction_id = ?`,
          [transactionId]
        )
      ).rows[0]?.state
    const ended = (transactionId: string) =>
      waitUntil(
        async () => (await stateOf(transactionId)) === "done",
        DEADLINE_MS,
        { what: `run ${transactionId} done` }
      )

    it("fires a retry set on this instance from its own in-process timer, with no poll and no NOTIFY", async () => {
      await start("alone", { START_RUN: `${TIMER_WF.retry}:armed-here` })
      await ended("armed-here")
      expect(await attemptsOf("armed-here")).toEqual(["alone", "alone"])
    })

    it("fires on a worker, woken by NOTIFY, the retry a server instance wrote, long before the worker's next poll", async () => {
      // Started first: its look at the timers at start finds none, and the next is ten minutes away.
      await start("worker", { WORKER_MODE: "worker" })
      await start("server", {
        WORKER_MODE: "server",
        START_RUN: `${TIMER_WF.retry}:written-elsewhere`,
      })
      await ended("written-elsewhere")
      expect(await attemptsOf("written-elsewhere")).toEqual([
        "server",
        "worker",
      ])
    })

    it("hands the timers it armed back when it stops, and another instance fires them at their due time", async () => {
      await start("survivor", { LEASE_MS: TEN_MINUTES })
      const stopping = await start("stopping", {
        LEASE_MS: TEN_MINUTES,
        START_RUN: `${TIMER_WF.retry}:handed-back`,
      })
      // Its first attempt failed and its retry is armed there: it stops (SIGTERM, its shutdown hooks) before the retry is due.
      expect(await attemptsOf("handed-back")).toEqual(["stopping"])
      const exited = new Promise((resolve) =>
        stopping.child.once("exit", resolve)
      )
      stopping.child.kill("SIGTERM")
      await exited

      await ended("handed-back")
      expect(await attemptsOf("handed-back")).toEqual(["stopping", "survivor"])
    })
  },
})
