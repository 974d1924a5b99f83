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
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  recordSql,
  rowsOf,
  stepSuccess,
  TEST_DATABASE,
  waitUntil,
  withEngineShutdown,
} from "./__fixtures__/engine"

/*
 * A long-running run's checkpoints are held in the process until something
 * could act on them: a step's handler starting, a timer being set, the call
 * returning. One that a later checkpoint replaces first is never sent; none
 * of them is missing from the table when something acts on it.
 */

jest.setTimeout(60000)

const WORKFLOW = "test-held-checkpoints"
const PAYMENT = "test-held-cp-payment"
const CALL = "test-held-cp-call"
const SHIPMENT = "test-held-cp-shipment"

// What each handler found stored for its own step as it started: `<step>:<attempt>` → state/status.
const seen: {
  db?: Knex
  lock?: Knex.Transaction
  byHandler: Record<string, string>
} = { byHandler: {} }

async function storedStep(transactionId: string, stepName: string) {
  const [row] = await rowsOf(seen.db!, transactionId)
  const step = Object.values(
    (row?.execution.steps ?? {}) as Record<
      string,
      { id: string; invoke: { state: string; status: string } }
    >
  ).find((candidate) => candidate.id.endsWith(`.${stepName}`))
  return step && `${step.invoke.state}/${step.invoke.status}`
}

const payment = createStep(
  { name: PAYMENT, async: true },
  async (_: void, { context }) => {
    seen.byHandler[`${PAYMENT}:1`] = (await storedStep(
      context!.transactionId!,
      PAYMENT
    ))!
  }
)
const call = createStep(
  { name: CALL, maxRetries: 1, retryInterval: 1 },
  async (_: void, { context, metadata }) => {
    seen.byHandler[`${CALL}:${metadata.attempt}`] = (await storedStep(
      context!.transactionId!,
      CALL
    ))!
    if (metadata.attempt === 1) {
      throw new Error("first attempt fails")
    }
    return new StepResponse(metadata.attempt)
  }
)
const shipment = createStep(
  { name: SHIPMENT, async: true, timeout: 60 },
  async (_: void, { context }) => {
    seen.byHandler[`${SHIPMENT}:1`] = (await storedStep(
      context!.transactionId!,
      SHIPMENT
    ))!
  }
)

createWorkflow({ name: WORKFLOW, store: true, retentionTime: 3600 }, () => {
  payment()
  const attempts = call()
  shipment()
  return new WorkflowResponse(attempts)
})

// A synchronous step, then an async one with a timeout: all of it within the run's start.
const TIMED_WORKFLOW = "test-held-cp-timed"
const PACKING = "test-held-cp-packing"
const PICKUP = "test-held-cp-pickup"
const packing = createStep(PACKING, async () => new StepResponse("packed"))
const pickup = createStep(
  { name: PICKUP, async: true, timeout: 60 },
  async (_: void, { context }) => {
    seen.byHandler[`${PICKUP}:1`] = (await storedStep(
      context!.transactionId!,
      PICKUP
    ))!
  }
)
createWorkflow(
  { name: TIMED_WORKFLOW, store: true, retentionTime: 3600 },
  () => {
    packing()
    pickup()
  }
)

const DIRECT_WORKFLOW = "test-held-cp-direct"
const LOCKING = "test-held-cp-locking"
const AWAITED = "test-held-cp-awaited"

// Locks the run's row from another connection until the test lets go: the run's next write waits for it.
const locking = createStep(LOCKING, async (_: void, { context }) => {
  seen.lock = await seen.db!.transaction()
  await seen.lock.raw(
    `SELECT 1 FROM "workflow_execution" WHERE "transaction_id" = ? FOR UPDATE`,
    [context!.transactionId!]
  )
})
const awaited = createStep({ name: AWAITED, async: true }, async () => {})

const direct = createWorkflow(
  { name: DIRECT_WORKFLOW, store: true, retentionTime: 3600 },
  () => {
    locking()
    awaited()
  }
)

// The conditional checkpoint write, alone or with what is written along (a timer, a run's end).
const UNCHANGED = "workflow_engine_update_unchanged_execution"
const checkpointWrites = (prepared: string[]) =>
  prepared.filter((name) => name.startsWith(UNCHANGED)).length
const timerWritesApart = (statements: string[]) =>
  statements.filter((sql) => /^\s*WITH "timer" AS/.test(sql)).length

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    let db: Knex
    beforeEach(async () => {
      db = knexOf(medusaApp)
      seen.db = db
      // Each timer, as it is committed, with its step as the table held it then.
      await db.raw(`
        CREATE TABLE IF NOT EXISTS "test_timer_sightings" ("kind" text, "step_id" text, "stored" text);
        CREATE OR REPLACE FUNCTION "test_sight_timer"() RETURNS trigger AS $$
        BEGIN
          INSERT INTO "test_timer_sightings"
          SELECT NEW."kind", NEW."step_id",
                 (e."execution"->'steps'->NEW."step_id"->'invoke'->>'state') || '/' ||
                 (e."execution"->'steps'->NEW."step_id"->'invoke'->>'status')
          FROM "workflow_execution" e
          WHERE e."workflow_id" = NEW."workflow_id" AND e."transaction_id" = NEW."transaction_id";
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        DROP TRIGGER IF EXISTS "test_sight_timer" ON "workflow_execution_timer";
        CREATE CONSTRAINT TRIGGER "test_sight_timer" AFTER INSERT ON "workflow_execution_timer"
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "test_sight_timer"();
      `)
    })
    afterEach(async () => {
      await db.raw(`
        DROP TRIGGER IF EXISTS "test_sight_timer" ON "workflow_execution_timer";
        DROP FUNCTION IF EXISTS "test_sight_timer"();
        DROP TABLE IF EXISTS "test_timer_sightings";
      `)
    })

    const sightings = async () =>
      (
        await db.raw(
          `SELECT "kind", "step_id", "stored" FROM "test_timer_sightings"`
        )
      ).rows.map((row: { kind: string; step_id: string; stored: string }) => [
        row.kind,
        row.step_id.split(".").pop(),
        row.stored,
      ])

    it("stores what a step's handler or a timer acts on before it does, and sends no checkpoint a later one replaced first", async () => {
      const transactionId = "held-cp-1"
      // Before and after Medusa prepares the async step: only the later is sent.
      const started = await recordSql(db, () =>
        engine.run(WORKFLOW, { input: {}, transactionId })
      )
      expect(checkpointWrites(started.prepared)).toBe(1)
      await waitUntil(() => !!seen.byHandler[`${PAYMENT}:1`])
      expect(seen.byHandler[`${PAYMENT}:1`]).toBe("invoking/waiting_response")

      // The answer; the call invoking (before its handler); the run as the call left it, its retry
      // timer written by the same statement, once the answer returns.
      const answered = await recordSql(db, () =>
        engine.setStepSuccess(stepSuccess(WORKFLOW, transactionId, PAYMENT))
      )
      expect(checkpointWrites(answered.prepared)).toBe(3)
      expect(timerWritesApart(answered.statements)).toBe(0)
      // Where pg_stat_activity, which keeps a statement's first 1024 bytes, still shows it (cut-runs looks there).
      const carrying = answered.statements.find((sql) =>
        sql.includes(`"timer_set" AS`)
      )!
      expect(
        carrying.indexOf(`INSERT INTO "workflow_execution_timer"`)
      ).toBeLessThan(1024 - 40)
      expect(seen.byHandler[`${CALL}:1`]).toBe("invoking/waiting_response")
      expect(await sightings()).toEqual([
        ["retry", CALL, "invoking/temp_failure"],
      ])
      const [afterAnswer] = await rowsOf(db, transactionId)
      const callStep = Object.values(
        afterAnswer.execution.steps as Record<
          string,
          { id: string; retryRescheduledAt?: number | null }
        >
      ).find((step) => step.id.endsWith(`.${CALL}`))!
      expect(callStep.retryRescheduledAt).toBeTruthy()

      // The retry: its step's end and the shipment's start are written with the shipment's timeout, then the
      // checkpoint the shipment's handler starts from.
      await waitUntil(() => !!seen.byHandler[`${SHIPMENT}:1`], 30000, {
        what: "the shipment's handler",
      })
      expect(seen.byHandler[`${CALL}:2`]).toBe("invoking/waiting_response")
      expect(seen.byHandler[`${SHIPMENT}:1`]).toBe("invoking/waiting_response")
      expect(await sightings()).toEqual([
        ["retry", CALL, "invoking/temp_failure"],
        ["step_timeout", SHIPMENT, "invoking/waiting_response"],
      ])
      expect(await storedStep(transactionId, CALL)).toBe("done/ok")

      await engine.setStepSuccess(
        stepSuccess(WORKFLOW, transactionId, SHIPMENT)
      )
      const [row] = await rowsOf(db, transactionId)
      expect(row.state).toBe("done")
      expect(row.context.data.invoke[CALL].output.output).toBe(2)
    })

    it("writes a step's timeout with the checkpoint that starts the step", async () => {
      const transactionId = "held-cp-timed"
      // The packing's end and the pickup's start with the pickup's timeout, one statement, before the
      // orchestrator checks the deadline; then the checkpoint before the pickup's handler.
      const started = await recordSql(db, () =>
        engine.run(TIMED_WORKFLOW, { input: {}, transactionId })
      )
      expect(checkpointWrites(started.prepared)).toBe(2)
      expect(timerWritesApart(started.statements)).toBe(0)
      expect(
        started.statements.filter((sql) => sql.includes(`"timer_set" AS`))
      ).toHaveLength(1)
      await waitUntil(() => !!seen.byHandler[`${PICKUP}:1`])
      expect(seen.byHandler[`${PICKUP}:1`]).toBe("invoking/waiting_response")
      expect(await sightings()).toEqual([
        ["step_timeout", PICKUP, "invoking/waiting_response"],
      ])

      await engine.setStepSuccess(
        stepSuccess(TIMED_WORKFLOW, transactionId, PICKUP)
      )
      const [row] = await rowsOf(db, transactionId)
      expect(row.state).toBe("done")
      const timers = await db.raw(
        `SELECT 1 FROM "workflow_execution_timer" WHERE "transaction_id" = ?`,
        [transactionId]
      )
      expect(timers.rows).toHaveLength(0)
    })

    it("sets a step's timeout on its own when the checkpoint it was to go with failed", async () => {
      const transactionId = "held-cp-failing"
      // The write of the pickup's start, which carries its timeout, fails once: not a refusal, not a lost connection.
      await db.raw(`
        CREATE SEQUENCE IF NOT EXISTS "test_fail_once";
        CREATE OR REPLACE FUNCTION "test_fail_pickup_start"() RETURNS trigger AS $$
        BEGIN
          IF NEW."execution"::text LIKE '%"invoking", "status": "waiting_response"%'
             AND nextval('test_fail_once') = 1 THEN
            RAISE EXCEPTION 'the test fails this write once';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        CREATE TRIGGER "test_fail_pickup_start" BEFORE UPDATE ON "workflow_execution"
          FOR EACH ROW WHEN (NEW."transaction_id" = '${transactionId}')
          EXECUTE FUNCTION "test_fail_pickup_start"();`)
      try {
        await engine.run(TIMED_WORKFLOW, { input: {}, transactionId })
        await waitUntil(() => !!seen.byHandler[`${PICKUP}:1`])
      } finally {
        await db.raw(`
          DROP TRIGGER "test_fail_pickup_start" ON "workflow_execution";
          DROP FUNCTION "test_fail_pickup_start"();
          DROP SEQUENCE "test_fail_once";`)
      }
      const timers = await db.raw(
        `SELECT "kind", "step_id" FROM "workflow_execution_timer" WHERE "transaction_id" = ?`,
        [transactionId]
      )
      expect(
        timers.rows.map((row: { kind: string; step_id: string }) => [
          row.kind,
          row.step_id.split(".").pop(),
        ])
      ).toEqual([["step_timeout", PICKUP]])
      expect(await storedStep(transactionId, PICKUP)).toBe(
        "invoking/waiting_response"
      )
      await engine.setStepSuccess(
        stepSuccess(TIMED_WORKFLOW, transactionId, PICKUP)
      )
      expect((await rowsOf(db, transactionId))[0].state).toBe("done")
    })

    it("returns from a run started as workflow(container).run() with what it did stored, as Medusa's routes start runs", async () => {
      const transactionId = "held-cp-direct"
      let returned = false
      const ran = direct()
        .run({ input: undefined, context: { transactionId } })
        .then(() => (returned = true))
      await waitUntil(
        async () =>
          (
            await db.raw(
              `SELECT count(*)::int AS "waiting" FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock'`
            )
          ).rows[0].waiting > 0,
        30000,
        { what: "the run's write waiting for the test's lock" }
      )
      const returnedUnwritten = returned
      await seen.lock!.commit()
      await ran

      const [row] = await rowsOf(db, transactionId)
      expect(returnedUnwritten).toBe(false)
      expect(row.execution.hasWaitingSteps).toBe(true)
      expect(await storedStep(transactionId, AWAITED)).toBe(
        "invoking/waiting_response"
      )
      await engine.setStepSuccess(
        stepSuccess(DIRECT_WORKFLOW, transactionId, AWAITED)
      )
    })
  }),
})
