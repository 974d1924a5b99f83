import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { MedusaError, Modules } from "@medusajs/framework/utils"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  withEngineShutdown,
} from "./__fixtures__/engine"
import { WF } from "./__fixtures__/workflows"
import type { WorkflowsModuleService } from "../../src/modules/workflow-engine/services/workflows-module"

jest.setTimeout(60000)

type Call = (engine: WorkflowsModuleService) => Promise<unknown>

const KEY = `${WF.asyncStep}:tx-1:step_2_async:invoke`
const noop = () => undefined

/*
 * Every public method of the service, called with a field it does not know
 * (a typo, a field of another method) or one it cannot take: each is
 * INVALID_DATA naming the field, as a route turns into a 400, and none
 * reaches the database or a workflow.
 */
const CASES: [string, Call, string][] = [
  [
    "retrieveWorkflowExecution, an unknown lookup field",
    (e) =>
      e.retrieveWorkflowExecution({
        workflow_id: WF.storedThreeSteps,
        transaction_id: "tx-1",
        bogus_field: 1,
      } as any),
    "bogus_field",
  ],
  [
    "retrieveWorkflowExecution, an unknown config key",
    (e) => e.retrieveWorkflowExecution("wf_exec_1", { bogus: 1 } as any),
    "bogus",
  ],
  [
    "listWorkflowExecutions, a relation the model has not",
    (e) => e.listWorkflowExecutions({}, { relations: ["steps"] }),
    "relations",
  ],
  [
    "listAndCountWorkflowExecutions, an unknown filter",
    (e) => e.listAndCountWorkflowExecutions({ bogus_field: 1 } as any),
    "bogus_field",
  ],
  [
    "listWorkflowExecutions, q below the top level",
    (e) => e.listWorkflowExecutions({ q: "tx", $or: [{ q: "tx" }] } as any),
    "$or[0].q",
  ],
  [
    "listWorkflowExecutions, a key named constructor",
    (e) => e.listWorkflowExecutions({ $and: [{ constructor: "x" }] } as any),
    "$and[0].constructor",
  ],
  [
    "listWorkflowExecutions, NUL in a value",
    (e) => e.listWorkflowExecutions({ transaction_id: "tx\u0000" }),
    "transaction_id",
  ],
  [
    "listWorkflowExecutions, NUL in q",
    (e) => e.listWorkflowExecutions({ q: "tx\u0000" }),
    "q",
  ],
  [
    "listWorkflowExecutions, a lone surrogate",
    (e) => e.listWorkflowExecutions({ workflow_id: ["ok", "\uD800"] }),
    "workflow_id[1]",
  ],
  [
    "listWorkflowExecutions, a pattern ending in its escape",
    (e) => e.listWorkflowExecutions({ transaction_id: { $like: "tx\\" } }),
    "transaction_id.$like",
  ],
  [
    "listWorkflowExecutions, a year Postgres cannot read",
    (e) =>
      e.listWorkflowExecutions({
        created_at: { $gt: new Date("+010000-01-01T00:00:00Z") },
      } as any),
    "created_at.$gt",
  ],
  [
    "listWorkflowExecutions, a list of dates",
    (e) => e.listWorkflowExecutions({ created_at: ["2026-01-01"] } as any),
    "created_at",
  ],
  [
    "listWorkflowExecutions, an integer past Postgres'",
    (e) =>
      e.listWorkflowExecutions({ retention_time: { $gt: 2 ** 31 } } as any),
    "retention_time.$gt",
  ],
  [
    "listWorkflowExecutions, a bigint take",
    (e) => e.listWorkflowExecutions({}, { take: BigInt(5) as any }),
    "take",
  ],
  [
    "purgeExpiredExecutions, an unknown option",
    (e) => e.purgeExpiredExecutions({ dryRun: true, everything: true } as any),
    "everything",
  ],
  [
    "purgeExpiredExecutions, no object",
    (e) => e.purgeExpiredExecutions(5 as any),
    "input",
  ],
  [
    "eraseWorkflowExecutions, an unknown field",
    (e) =>
      e.eraseWorkflowExecutions({
        transaction_ids: ["tx-1"],
        dryRun: true,
      } as any),
    "dryRun",
  ],
  [
    "listWorkflowExecutionPurges, an unknown filter",
    (e) => e.listWorkflowExecutionPurges({ bogus_field: 1 }),
    "bogus_field",
  ],
  [
    "listWorkflowExecutionPurges, a fraction of a row",
    (e) => e.listWorkflowExecutionPurges({ deleted: 1.5 }),
    "deleted",
  ],
  [
    "listWorkflowExecutionPurges, a trigger there is not",
    (e) => e.listWorkflowExecutionPurges({ trigger: ["job", "cron"] }),
    "trigger[1]",
  ],
  [
    "listAndCountWorkflowExecutionPurges, an order by no column",
    (e) =>
      e.listAndCountWorkflowExecutionPurges(
        {},
        { order: { nope: "ASC" } as any }
      ),
    "order.nope",
  ],
  [
    "retrieveExecutionRetention, no id",
    (e) => e.retrieveExecutionRetention(42 as any),
    "id",
  ],
  [
    "run, a misspelt option",
    (e) => e.run(WF.storedThreeSteps, { transactionID: "tx-1" } as any),
    "transactionID",
  ],
  [
    "run, an empty transaction id",
    (e) => e.run(WF.storedThreeSteps, { transactionId: "" }),
    "transactionId",
  ],
  [
    "run, a context that is no object",
    (e) => e.run(WF.storedThreeSteps, { context: "tx-1" as any }),
    "context",
  ],
  [
    "setStepSuccess, an unknown field",
    (e) =>
      e.setStepSuccess({
        idempotencyKey: KEY,
        stepResponse: 1,
        bogus_field: 1,
      } as any),
    "bogus_field",
  ],
  [
    "setStepSuccess, an unknown idempotency key part",
    (e) =>
      e.setStepSuccess({
        idempotencyKey: {
          workflowId: WF.asyncStep,
          transactionId: "tx-1",
          stepId: "s",
          action: "invoke",
          runId: "r",
        } as any,
        stepResponse: 1,
      }),
    "idempotencyKey.runId",
  ],
  [
    "setStepSuccess, an action there is not",
    (e) =>
      e.setStepSuccess({
        idempotencyKey: `${WF.asyncStep}:tx-1:s:undo`,
        stepResponse: 1,
      }),
    "idempotencyKey",
  ],
  [
    "setStepFailure, a misspelt option",
    (e) =>
      e.setStepFailure({
        idempotencyKey: KEY,
        options: { forcePermanentFailures: true },
      } as any),
    "options.forcePermanentFailures",
  ],
  [
    "retryStep, a response it does not take",
    (e) => e.retryStep({ idempotencyKey: KEY, stepResponse: 1 } as any),
    "stepResponse",
  ],
  [
    "subscribe, a misspelt field",
    (e) =>
      e.subscribe({
        workflowId: WF.storedThreeSteps,
        transactionID: "tx-1",
        subscriber: noop,
      } as any),
    "transactionID",
  ],
  [
    "subscribe, no subscriber",
    (e) => e.subscribe({ workflowId: WF.storedThreeSteps } as any),
    "subscriber",
  ],
  [
    "unsubscribe, a subscriber that is neither id nor function",
    (e) =>
      e.unsubscribe({
        workflowId: WF.storedThreeSteps,
        subscriberOrId: 5,
      } as any),
    "subscriberOrId",
  ],
  [
    "cancel, an unknown option",
    (e) =>
      e.cancel(WF.storedThreeSteps, {
        transactionId: "tx-1",
        bogus_field: 1,
      } as any),
    "bogus_field",
  ],
]

moduleIntegrationTestRunner<WorkflowsModuleService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    beforeAll(() => require("./__fixtures__/workflows"))

    it.each(CASES)(
      "%s: INVALID_DATA naming the field",
      async (_, call, field) => {
        const error: any = await call(engine).then(
          () => new Error(`accepted; expected INVALID_DATA naming "${field}"`),
          (e) => e
        )
        expect(error).toBeInstanceOf(MedusaError)
        expect([error.type, error.message]).toEqual([
          MedusaError.Types.INVALID_DATA,
          expect.stringContaining(`"${field}"`),
        ])
      }
    )

    it("leaves nothing behind: no run, no purge audit entry", async () => {
      for (const [, call] of CASES) {
        await call(engine).catch(() => undefined)
      }
      const { rows } = await knexOf(medusaApp).raw(
        `SELECT (SELECT count(*) FROM workflow_execution)::int AS runs, (SELECT count(*) FROM workflow_execution_purge)::int AS purges`
      )
      expect(rows[0]).toEqual({ runs: 0, purges: 0 })
    })
  }),
})
