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
import { RunReply } from "./__fixtures__/instance-commands"
import { instanceProcesses } from "./__fixtures__/instance-suite"
import { ask, Instance } from "./__fixtures__/instances"

jest.setTimeout(180000)

const REFUSED =
  /was refused: the run was taken over since this execution loaded it at epoch 0 \(it is at epoch [1-9]/

/*
 * An instance that comes back from the dead. The instance named "paused" runs
 * steps that wait for the test (see cut-workflows' `held-`); the test stops
 * the process (SIGSTOP) past its lease, the survivor recovers its runs, and
 * the test lets the process go on (SIGCONT) and its held steps end. Its late
 * writes must be refused (and logged), and nothing of a recovered run may run
 * again because of it.
 */
moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: ({ service: engine, medusaApp, dbConfig }) => {
    const db = (): Knex => knexOf(medusaApp)
    const start = instanceProcesses(engine, db, () => dbConfig.clientUrl)

    const rowOf = async (transactionId: string) =>
      (
        await db().raw(
          `SELECT state, context, owner_epoch, owner_instance_id, awaited_steps FROM workflow_execution WHERE transaction_id = ?`,
          [transactionId]
        )
      ).rows[0]
    const invocations = async (transactionId: string, step: string) =>
      (await readLog(db(), "invoke"))
        .filter((entry) => entry.key === `${transactionId}|${step}`)
        .map((entry) => entry.instance)
    const runOn = (
      instance: Instance,
      workflowId: string,
      transactionId: string
    ) => ask<RunReply>(instance, { run: { workflowId, transactionId } })
    const signal = (instance: Instance, name: "SIGSTOP" | "SIGCONT") =>
      process.kill(instance.child.pid!, name)

    it("refuses the writes of an instance paused past its lease to the runs recovered meanwhile, and runs no step again for it", async () => {
      const survivor = await start("survivor")
      const paused = await start("paused")

      // A stored synchronous run (written at its start and end only), held in its second step; a run held in a
      // step with retries; a run waiting for an answer, which the paused instance does not hold.
      const sync = "held-sync"
      const charge = "held-charge"
      const waiting = "wait-answer"
      const replies = [
        runOn(paused, CUT_WF.sync, sync),
        runOn(paused, CUT_WF.retry, charge),
      ]
      void runOn(paused, CUT_WF.transactionTimeout, waiting).catch(
        () => undefined
      )
      await waitUntil(
        async () => (await invocations(sync, CUT_STEP.hold)).length === 1
      )
      await waitUntil(
        async () => (await invocations(charge, CUT_STEP.charge)).length === 1
      )
      await waitUntil(
        async () => (await invocations(waiting, CUT_STEP.ask)).length === 1
      )
      // Its handler returned and was noted: the run waits for its answer (see storage/awaited-steps).
      await waitUntil(
        async () => (await rowOf(waiting))?.awaited_steps?.length === 1
      )

      signal(paused, "SIGSTOP")
      try {
        // The survivor takes the runs over: the synchronous run is failed and compensated, the charge fails and is
        // retried (on the survivor), the waiting run is disowned; each at a new epoch.
        await waitUntil(
          async () => (await rowOf(sync))?.state === "reverted",
          30000
        )
        await waitUntil(
          async () => (await rowOf(charge))?.state === "done",
          30000
        )
        await waitUntil(
          async () => (await rowOf(waiting))?.owner_epoch === 1,
          30000
        )
      } finally {
        signal(paused, "SIGCONT")
      }
      const recovered = { sync: await rowOf(sync), charge: await rowOf(charge) }
      expect([
        recovered.sync.owner_epoch,
        recovered.charge.owner_epoch,
      ]).toEqual([1, 1])

      // Back from the dead, its held steps end: what they would write is refused, and their callers are told.
      await ask(paused, { release: sync })
      await ask(paused, { release: charge })
      const [syncReply, chargeReply] = await Promise.all(replies)
      expect(syncReply.thrown).toMatch(REFUSED)
      expect(chargeReply.thrown).toMatch(REFUSED)
      const refusals = paused
        .output()
        .split("\n")
        .filter((line) => REFUSED.test(line))
      expect(
        refusals.some((line) => line.includes(`(transaction ${sync})`))
      ).toBe(true)
      expect(
        refusals.some((line) => line.includes(`(transaction ${charge})`))
      ).toBe(true)

      // Nothing it did after it came back reached the runs, and no step ran again because of it.
      expect(await rowOf(sync)).toEqual(recovered.sync)
      expect(await rowOf(charge)).toEqual(recovered.charge)
      expect(
        recovered.sync.context.errors.map((error: any) => error.error?.message)
      ).toEqual([
        expect.stringMatching(/Workflow engine instance wf_inst_\w+ .*died/),
      ])
      expect(await invocations(sync, CUT_STEP.reserve)).toEqual(["paused"])
      expect(await invocations(sync, CUT_STEP.hold)).toEqual(["paused"])
      expect(await invocations(sync, CUT_STEP.after)).toEqual([])
      expect(await invocations(charge, CUT_STEP.reserve)).toEqual(["paused"])
      // Its first attempt was cut by the pause; the retry ran on the survivor, once.
      expect(await invocations(charge, CUT_STEP.charge)).toEqual([
        "paused",
        "survivor",
      ])

      // It works on: it answers the waiting run (loaded at the new epoch) and runs a new one.
      await ask(paused, {
        stepSuccess: {
          workflowId: CUT_WF.transactionTimeout,
          transactionId: waiting,
          stepId: CUT_STEP.ask,
        },
      })
      await waitUntil(async () => (await rowOf(waiting))?.state === "done")
      expect(await invocations(waiting, CUT_STEP.finish)).toEqual(["paused"])
      expect(await runOn(paused, CUT_WF.sync, "after-pause")).toEqual({
        state: "done",
        errors: [],
      })
      expect(survivor.output()).not.toMatch(REFUSED)
    })
  },
})
