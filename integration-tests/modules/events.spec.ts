import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import {
  IEventBusModuleService,
  IWorkflowEngineService,
  Logger,
} from "@medusajs/framework/types"
import {
  ContainerRegistrationKeys,
  MedusaError,
  Modules,
} from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import LocalEventBusService from "@medusajs/event-bus-local/dist/services/event-bus-local"
import { resolveOptions } from "../../src/modules/workflow-engine/options"
import { CrashRecovery } from "../../src/modules/workflow-engine/recovery/crash-recovery"
import { nextEventWait } from "../../src/modules/workflow-engine/events/sql/next-event-wait"
import {
  WorkflowExecutionEventData,
  WorkflowExecutionEvents,
} from "../../src/modules/workflow-engine/events"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  recordingLogger,
  TEST_DATABASE,
  waitUntil,
  withEngineShutdown,
} from "./__fixtures__/engine"
import { ASYNC_STEP, WF } from "./__fixtures__/workflows"

jest.setTimeout(60000)

type Received = {
  name: string
  data: WorkflowExecutionEventData
  metadata?: Record<string, unknown>
}

const logger = recordingLogger()
// Medusa's own local event bus, as a store runs it; `refusing` makes its emit throw, as a bus that is down does.
const localBus = new LocalEventBusService({ logger } as never, {}, {} as never)
const bus = {
  refusing: false,
  handed: [] as string[],
  emit: async (...args: Parameters<IEventBusModuleService["emit"]>) => {
    const message = args[0] as unknown as { data: WorkflowExecutionEventData }
    bus.handed.push(message.data.event_id)
    if (bus.refusing) {
      throw new Error("the event bus is down")
    }
    return await localBus.emit(...args)
  },
  subscribe: localBus.subscribe.bind(localBus),
  unsubscribe: localBus.unsubscribe.bind(localBus),
  releaseGroupedEvents: localBus.releaseGroupedEvents.bind(localBus),
  clearGroupedEvents: localBus.clearGroupedEvents.bind(localBus),
}

const received: Received[] = []
for (const name of Object.values(WorkflowExecutionEvents)) {
  localBus.subscribe(name, async (event) => {
    received.push(event as Received)
  })
}
const receivedFor = (transactionId: string) =>
  received.filter((event) => event.data.transaction_id === transactionId)

const quiet = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
} as unknown as Logger

/*
 * The run events on a real Medusa event bus (the local one): what a store's
 * subscriber receives, once, for each way a stored run ends badly; nothing
 * for a run that ends done; retries when the bus refuses, up to a bound.
 */
moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  injectedDependencies: {
    [Modules.EVENT_BUS]: bus,
    [ContainerRegistrationKeys.LOGGER]: logger,
  },
  // Recovery is run by the tests; stalls count after one second.
  moduleOptions: { leaseDurationMs: 600000, stuckAfterSeconds: 1 },
  testSuite: withEngineShutdown(({ service, medusaApp }) => {
    const engine = service as IWorkflowEngineService & {
      deliverWorkflowEvents(): Promise<number>
      reportStuckExecutions(): Promise<number>
      retrieveExecutionStorage(): Promise<{
        stuck: number
        events: { pending: number; given_up: number }
      }>
    }
    beforeAll(() => require("./__fixtures__/workflows"))
    beforeEach(() => {
      received.length = 0
      bus.handed.length = 0
      bus.refusing = false
      logger.errors.length = 0
    })

    const db = (): Knex => knexOf(medusaApp)
    const outbox = async (transactionId: string) =>
      (
        await db().raw(
          `SELECT * FROM workflow_engine_event WHERE payload->>'transaction_id' = ? ORDER BY created_at`,
          [transactionId]
        )
      ).rows
    // Delivered by the engine's own loop (woken by the outbox's NOTIFY) or by this call, whichever comes first.
    const deliveredFor = async (transactionId: string, count = 1) => {
      await engine.deliverWorkflowEvents()
      await waitUntil(() => receivedFor(transactionId).length >= count, 10000, {
        what: `${count} event(s) of ${transactionId} received`,
      })
      return receivedFor(transactionId)
    }

    // GREATEST(0, NULL) is 0 in Postgres: the look once read an empty outbox as "due now", and the deliverer spun on it.
    it("reads no next due time from an outbox with nothing pending, and 0 for an event due now", async () => {
      const trx = await db().transaction()
      try {
        await trx.raw(`DELETE FROM workflow_engine_event`)
        expect(await nextEventWait(trx)).toBeNull()
        await trx.raw(
          `INSERT INTO workflow_engine_event ("name", "dedupe_key", "payload", "next_attempt_at") VALUES ('x', 'spin-check', '{}', now() - interval '1 minute')`
        )
        expect(await nextEventWait(trx)).toBe(0)
      } finally {
        await trx.rollback()
      }
    })

    it("emits workflow_execution.reverted once, with the run, the failing step, its error and the commerce ids of its input", async () => {
      await engine.run(WF.compensated, {
        transactionId: "reverts",
        input: { order_id: "order_evt1", customer: { id: "cus_evt1" } },
        throwOnError: false,
      })
      const [execution] = await engine.listWorkflowExecutions({
        transaction_id: "reverts",
      })
      const events = await deliveredFor("reverts")
      await engine.deliverWorkflowEvents()
      expect(receivedFor("reverts")).toHaveLength(1)
      const [{ event_id, ...data }] = events.map((event) => event.data)
      expect(events[0].name).toBe("workflow_execution.reverted")
      expect(data).toEqual({
        id: execution.id,
        workflow_id: WF.compensated,
        transaction_id: "reverts",
        run_id: (execution as unknown as { run_id: string }).run_id,
        state: "reverted",
        step_id: "test-failing",
        error_message: "step failed on purpose",
        resource_ids: ["order_evt1", "cus_evt1"],
      })
      expect(event_id).toMatch(/^wfevt_/)
      expect(events[0].metadata).toMatchObject({ event_id })
      // The engine's own loop may hand the event over and commit a moment after this test's call skipped its locked row.
      await waitUntil(
        async () => (await outbox("reverts"))[0].delivered_at !== null,
        10000,
        { what: "the reverted event marked delivered" }
      )
    })

    it("emits workflow_execution.failed when the compensation fails too", async () => {
      await engine.run(WF.failedCompensation, {
        transactionId: "fails",
        throwOnError: false,
      })
      const [event] = await deliveredFor("fails")
      expect(event.name).toBe("workflow_execution.failed")
      expect(event.data).toMatchObject({
        state: "failed",
        step_id: "test-failing-too",
        error_message: "second step failed",
      })
    })

    it("emits the event of a run removed at its end (no retention), from the same statement that removed it", async () => {
      await engine.run(WF.failsWithoutRetention, {
        transactionId: "removed",
        input: { cart_id: "cart_evt2" },
        throwOnError: false,
      })
      expect(
        await engine.listWorkflowExecutions({ transaction_id: "removed" })
      ).toHaveLength(0)
      const [event] = await deliveredFor("removed")
      expect(event.data).toMatchObject({
        workflow_id: WF.failsWithoutRetention,
        state: "reverted",
        step_id: "test-always-fails",
        error_message: "fails, to be kept by outcome",
        resource_ids: ["cart_evt2"],
      })
      expect(event.data.id).toMatch(/^wf_exec_/)
    })

    it("emits nothing for a run that ends done, and writes nothing to the outbox", async () => {
      await engine.run(WF.storedThreeSteps, {
        transactionId: "done",
        input: { value: 1 },
      })
      await engine.deliverWorkflowEvents()
      expect(await outbox("done")).toEqual([])
      expect(receivedFor("done")).toEqual([])
    })

    it("emits the end of a run that recovery failed after its instance died", async () => {
      await engine.run(WF.asyncStep, {
        transactionId: "recovered",
        input: { value: 1 },
      })
      const dead = "wf_inst_dead_for_the_events"
      await db().raw(
        `INSERT INTO workflow_engine_instance (id, hostname, pid, worker_mode, lease_expires_at)
         VALUES (?, 'gone-host', 4242, 'shared', now() - interval '1 second')`,
        [dead]
      )
      await db().raw(
        `UPDATE workflow_execution
            SET owner_instance_id = ?,
                execution = jsonb_set(execution, '{steps,_root.test-before-async.${ASYNC_STEP},invoke}', '{"state":"invoking","status":"idle"}')
          WHERE transaction_id = 'recovered'`,
        [dead]
      )
      await new CrashRecovery(
        db(),
        quiet,
        "wf_inst_recovering",
        () => engine
      ).recoverNow()

      const [event] = await deliveredFor("recovered")
      expect(event.name).toBe("workflow_execution.reverted")
      expect(event.data.step_id).toBe(ASYNC_STEP)
      expect(event.data.error_message).toContain(
        `${dead} (gone-host, pid 4242) died`
      )
    })

    it("records one event per run end: a second write of the same end adds nothing", async () => {
      await engine.run(WF.compensated, {
        transactionId: "written-twice",
        throwOnError: false,
      })
      // The same end written again, as a retried save writes it (the statement's own path, not the orchestrator's).
      const { rows } = await db().raw(
        `SELECT dedupe_key FROM workflow_engine_event WHERE payload->>'transaction_id' = 'written-twice'`
      )
      const again = await db().raw(
        `INSERT INTO workflow_engine_event (name, dedupe_key, payload) VALUES ('workflow_execution.reverted', ?, '{}')
         ON CONFLICT (dedupe_key) DO NOTHING`,
        [rows[0].dedupe_key]
      )
      expect(again.rowCount).toBe(0)
      await deliveredFor("written-twice")
      await engine.deliverWorkflowEvents()
      expect(receivedFor("written-twice")).toHaveLength(1)
    })

    it("emits workflow_execution.step_awaiting_retry once for a step held after a failure (autoRetry: false)", async () => {
      await engine.run(WF.manualRetry, {
        transactionId: "held",
        throwOnError: false,
      })
      const [event] = await deliveredFor("held")
      expect(event.name).toBe("workflow_execution.step_awaiting_retry")
      expect(event.data).toMatchObject({
        state: "invoking",
        step_id: "test-held-on-failure",
      })
      // The run goes on when asked to, and ends done: no other event.
      await engine.run(WF.manualRetry, { transactionId: "held" })
      await engine.deliverWorkflowEvents()
      expect(receivedFor("held")).toHaveLength(1)
      expect(await outbox("held")).toHaveLength(1)
    })

    it("retries a hand-over the event bus refused, and gives it up past the bound, kept and counted", async () => {
      bus.refusing = true
      await engine.run(WF.compensated, {
        transactionId: "bus-down",
        throwOnError: false,
      })
      await engine.deliverWorkflowEvents()
      await waitUntil(async () => (await outbox("bus-down"))[0]?.attempts >= 1)
      expect(receivedFor("bus-down")).toEqual([])

      // The bus comes back: the next retry delivers it (its due time brought forward, instead of waiting for it).
      bus.refusing = false
      await db().raw(
        `UPDATE workflow_engine_event SET next_attempt_at = now() WHERE payload->>'transaction_id' = 'bus-down'`
      )
      const [event] = await deliveredFor("bus-down")
      expect(event.name).toBe("workflow_execution.reverted")

      bus.refusing = true
      await engine.run(WF.compensated, {
        transactionId: "bus-gone",
        throwOnError: false,
      })
      for (let i = 0; i < 30; i++) {
        const [row] = await outbox("bus-gone")
        if (row?.next_attempt_at === Infinity) {
          break
        }
        await db().raw(
          `UPDATE workflow_engine_event SET next_attempt_at = now()
            WHERE payload->>'transaction_id' = 'bus-gone' AND next_attempt_at < 'infinity'`
        )
        await engine.deliverWorkflowEvents()
      }
      const [row] = await outbox("bus-gone")
      expect(row).toMatchObject({
        attempts: 10,
        delivered_at: null,
        last_error: "the event bus is down",
      })
      expect(row.next_attempt_at).toBe(Infinity)
      expect(bus.handed.filter((id) => id === row.id)).toHaveLength(10)
      expect(logger.errors.join("\n")).toContain(
        `workflow_execution.reverted (${row.id}) on attempt 10 of 10: the event bus is down. It is given up`
      )
      const storage = await engine.retrieveExecutionStorage()
      expect(storage.events.given_up).toBe(1)
      expect(receivedFor("bus-gone")).toEqual([])
    })

    describe("stuck runs", () => {
      const age = (transactionId: string) =>
        db().raw(
          `UPDATE workflow_execution SET updated_at = now() - interval '1 hour' WHERE transaction_id = ?`,
          [transactionId]
        )
      // A run whose checkpoint shows its async step neither waiting nor running: nothing will move it.
      const stall = (transactionId: string, status: string) =>
        db().raw(
          `UPDATE workflow_execution
              SET execution = jsonb_set(execution, '{steps,_root.test-before-async.${ASYNC_STEP},invoke,status}', to_jsonb(?::text))
            WHERE transaction_id = ?`,
          [status, transactionId]
        )

      it("reports a run that stopped moving once, lists it with stuck: true, and clears it when the run moves", async () => {
        await engine.run(WF.asyncStep, {
          transactionId: "stalls",
          input: { value: 1 },
        })
        await stall("stalls", "idle")
        await age("stalls")

        expect(await engine.reportStuckExecutions()).toBe(1)
        expect(await engine.reportStuckExecutions()).toBe(0)
        const [event] = await deliveredFor("stalls")
        expect(event.name).toBe("workflow_execution.stuck")
        expect(event.data).toMatchObject({
          workflow_id: WF.asyncStep,
          state: "invoking",
          step_id: null,
        })
        expect(Date.parse(event.data.last_moved_at!)).toBeLessThan(
          Date.now() - 30 * 60 * 1000
        )
        const stuck = await engine.listWorkflowExecutions({
          stuck: true,
        } as never)
        expect(stuck.map((execution) => execution.transaction_id)).toEqual([
          "stalls",
        ])
        expect((await engine.retrieveExecutionStorage()).stuck).toBe(1)

        // It moves: its step gets its answer, the run's write clears the mark.
        await stall("stalls", "waiting_response")
        await engine.setStepSuccess({
          idempotencyKey: {
            workflowId: WF.asyncStep,
            transactionId: "stalls",
            stepId: ASYNC_STEP,
            action: "invoke",
          },
          stepResponse: "answered",
        })
        expect(
          await engine.listWorkflowExecutions({ stuck: true } as never)
        ).toEqual([])
        const [moved] = await engine.listWorkflowExecutions({
          transaction_id: "stalls",
          stuck: false,
        } as never)
        expect(moved.state).toBe("done")
        expect((await engine.retrieveExecutionStorage()).stuck).toBe(0)
        await engine.deliverWorkflowEvents()
        expect(receivedFor("stalls")).toHaveLength(1)
      })

      it("does not report a run whose async step waits for its answer, however long", async () => {
        await engine.run(WF.asyncStep, {
          transactionId: "waits-long",
          input: { value: 1 },
        })
        await age("waits-long")
        expect(await engine.reportStuckExecutions()).toBe(0)
        expect(await outbox("waits-long")).toEqual([])
      })

      it("refuses a stuck filter that is not a boolean, naming it", async () => {
        await expect(
          engine.listWorkflowExecutions({ stuck: "yes" } as never)
        ).rejects.toMatchObject({
          type: "invalid_data",
          message: expect.stringContaining("stuck"),
        })
      })
    })
  }),
})

describe("the stuckAfterSeconds option", () => {
  it("defaults to an hour, takes 0 (off), and refuses anything but a whole number of seconds, naming it", () => {
    expect(resolveOptions({}).stuckAfterSeconds).toBe(3600)
    expect(resolveOptions({ stuckAfterSeconds: 0 }).stuckAfterSeconds).toBe(0)
    for (const bad of [-1, 1.5, "1h", null]) {
      let refused: unknown
      try {
        resolveOptions({ stuckAfterSeconds: bad })
      } catch (error) {
        refused = error
      }
      expect(refused).toBeInstanceOf(MedusaError)
      expect(refused).toMatchObject({
        type: MedusaError.Types.INVALID_DATA,
        message: expect.stringMatching(/"stuckAfterSeconds".*README/),
      })
    }
  })
})
