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
import { EVENT_WF } from "./__fixtures__/event-workflows-ids"
import { kill } from "./__fixtures__/instances"
import { instanceProcesses } from "./__fixtures__/instance-suite"

jest.setTimeout(180000)

/*
 * The run events' delivery across engine instances, each its own OS process
 * with Medusa's local event bus; every event a subscriber receives is
 * recorded in cluster_log (kind "event", see __fixtures__/event-bus.ts).
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
    const outbox = async () =>
      (
        await db().raw(
          `SELECT id, payload->>'transaction_id' AS transaction_id, delivered_at FROM workflow_engine_event ORDER BY created_at`
        )
      ).rows

    it("delivers once, from another instance, the event of a run whose instance was SIGKILLed after the run's end committed and before the delivery was recorded", async () => {
      // a's run fails and ends; a claims the event and hands it to its bus, which never returns.
      const a = await start("a", {
        EVENTS: "hold",
        START_RUN: `${EVENT_WF.fails}:killed-mid-delivery`,
        LEASE_MS: "2000",
      })
      await waitUntil(
        async () => (await logOf("holding")).length === 1,
        30000,
        {
          what: "a holding the event",
        }
      )
      const [held] = await outbox()
      expect(held).toMatchObject({
        transaction_id: "killed-mid-delivery",
        delivered_at: null,
      })

      // b runs beside it: the event is a's (its row lock) as long as a lives.
      await start("b", { EVENTS: "deliver", POLL_MS: "300" })
      await kill(a)

      await waitUntil(async () => (await logOf("event")).length >= 1, 30000, {
        what: "the event delivered by b",
      })
      await waitUntil(async () => (await outbox())[0].delivered_at !== null)
      const events = await logOf("event")
      expect(events).toEqual([
        {
          key: `workflow_execution.reverted:killed-mid-delivery:${held.id}`,
          instance: "b",
        },
      ])
      // Delivered is for good: no deliverer claims a delivered event again (claim-due-events.ts), and a never took it back.
      expect(await logOf("holding")).toHaveLength(1)
    })

    it("delivers each event exactly once while three instances end runs and deliver at the same time", async () => {
      const perInstance = 8
      await Promise.all(
        ["a", "b", "c"].map((name) =>
          start(name, {
            EVENTS: "deliver",
            POLL_MS: "300",
            START_RUNS: `${EVENT_WF.fails}:${name}-run:${perInstance}`,
          })
        )
      )
      const expected = 3 * perInstance
      await waitUntil(
        async () => (await logOf("event")).length >= expected,
        60000,
        { what: `${expected} events delivered` }
      )
      await waitUntil(async () =>
        (await outbox()).every(
          (row: { delivered_at: Date | null }) => row.delivered_at !== null
        )
      )
      const events = await logOf("event")
      const keys = events.map((event) => event.key)
      expect(keys).toHaveLength(expected)
      expect(new Set(keys).size).toBe(expected)
      const rows = await outbox()
      expect(rows).toHaveLength(expected)
      expect(
        new Set(
          rows.map((row: { transaction_id: string }) => row.transaction_id)
        ).size
      ).toBe(expected)
    })
  },
})
