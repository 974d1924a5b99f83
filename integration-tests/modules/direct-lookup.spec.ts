import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import { WorkflowsModuleService } from "../../src/modules/workflow-engine/services/workflows-module"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  recordSql,
  waitUntil,
  withEngineShutdown,
} from "./__fixtures__/engine"
import { WF } from "./__fixtures__/workflows"

jest.setTimeout(60000)

/*
 * Lookups by id, workflow, transaction, run or state skip the ORM (one plain
 * statement); they must answer exactly what Medusa's generated list method
 * answers, which is what the module ran before: same rows, order, fields and
 * value types.
 */
moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(
    ({ service: engine, medusaApp, MikroOrmWrapper }) => {
      beforeAll(() => require("./__fixtures__/workflows"))

      // The generated method the module overrides: the ORM's answer.
      const generated = (filters: object, config?: object) =>
        Object.getPrototypeOf(
          WorkflowsModuleService.prototype
        ).listWorkflowExecutions.call(engine, filters, config)

      beforeEach(async () => {
        for (let i = 0; i < 3; i++) {
          await engine.run(WF.storedThreeSteps, {
            transactionId: `lookup-${i}`,
            input: { value: i },
          })
        }
        await engine.run(WF.compensated, {
          transactionId: "lookup-reverted",
          throwOnError: false,
        })
        await engine.run(WF.asyncStep, {
          transactionId: "lookup-waiting",
          input: { value: 1 },
        })
        const db = knexOf(medusaApp)
        // The run's row notes its awaited step once the step's handler returned, after run() resolved.
        await waitUntil(
          async () =>
            (
              await db.raw(
                `SELECT 1 FROM workflow_execution WHERE transaction_id = 'lookup-waiting' AND awaited_steps <> '{}'`
              )
            ).rows.length === 1
        )
        // A second run of one transaction, a soft-deleted row, and a row with no checkpoint at all.
        await db.raw(
          `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, execution, context, retention_time, created_at, updated_at, deleted_at)
         VALUES ('wf_exec_second_run', ?, 'lookup-1', 'run-2', 'done', '{"state":"done"}', NULL, 60, now(), now(), NULL),
                ('wf_exec_deleted', ?, 'lookup-2', 'run-deleted', 'done', NULL, NULL, NULL, now(), now(), now()),
                ('wf_exec_bare', 'imported', 'lookup-bare', 'run-1', 'failed', NULL, NULL, NULL, now(), now(), NULL)`,
          [WF.storedThreeSteps, WF.storedThreeSteps]
        )
      })

      it.each([
        [
          "a transaction id, as the documentation's route asks",
          { transaction_id: "lookup-1" },
          undefined,
        ],
        [
          "a transaction that has none",
          { transaction_id: "nothing-here" },
          undefined,
        ],
        ["a workflow", { workflow_id: WF.storedThreeSteps }, undefined],
        [
          "several transactions",
          { transaction_id: ["lookup-0", "lookup-2", "lookup-bare"] },
          undefined,
        ],
        [
          "$in and $eq",
          {
            transaction_id: { $in: ["lookup-0", "lookup-1"] },
            state: { $eq: "done" },
          },
          undefined,
        ],
        ["a state", { state: "reverted" }, undefined],
        ["a run id", { run_id: "run-2" }, undefined],
        ["everything", {}, undefined],
        [
          "a page, newest first",
          { workflow_id: WF.storedThreeSteps },
          { take: 2, skip: 1, order: { created_at: "DESC" } },
        ],
        [
          "a selection",
          { transaction_id: "lookup-1" },
          { select: ["state", "execution"] },
        ],
        [
          "a selection with the id",
          { workflow_id: WF.storedThreeSteps },
          { select: ["id", "created_at"], order: { id: "ASC" } },
        ],
      ])("%s", async (_, filters, config) => {
        const db = knexOf(medusaApp)
        const direct = await recordSql(db, () =>
          engine.listWorkflowExecutions(filters as any, config as any)
        )
        expect(direct.statements).toHaveLength(1)
        let expected = await generated(filters, config)
        const select = (config as { select?: string[] } | undefined)?.select
        if (select && !select.includes("id")) {
          // With a selection that leaves out the id, the ORM answers with a new made-up one; ours is the row's.
          const stored = await db.raw(
            `SELECT run_id, id FROM workflow_execution WHERE transaction_id = 'lookup-1' AND deleted_at IS NULL`
          )
          const idOf = new Map(
            stored.rows.map((row: { run_id: string; id: string }) => [
              row.run_id,
              row.id,
            ])
          )
          expect((direct.result as any[]).map((row) => row.id)).toEqual(
            (direct.result as any[]).map((row) => idOf.get(row.run_id))
          )
          expected = expected.map((row: any) => ({
            ...row,
            id: idOf.get(row.run_id),
          }))
        }
        expect(direct.result).toEqual(expected)
        // Same value types, not only equal-looking ones.
        for (const [i, row] of (direct.result as any[]).entries()) {
          for (const [field, value] of Object.entries(expected[i])) {
            expect([field, Object.prototype.toString.call(row[field])]).toEqual(
              [field, Object.prototype.toString.call(value)]
            )
          }
        }
      })

      it("leaves what it does not cover to the ORM: operators, soft-deleted rows, a caller's transaction", async () => {
        const like = await engine.listWorkflowExecutions({
          transaction_id: { $like: "lookup-%" },
        } as any)
        expect(like).toEqual(
          await generated({ transaction_id: { $like: "lookup-%" } })
        )
        const withDeleted = await engine.listWorkflowExecutions(
          { transaction_id: "lookup-2" },
          { withDeleted: true } as any
        )
        expect(withDeleted.map((row) => row.id).sort()).toContain(
          "wf_exec_deleted"
        )
        // Inside a caller's transaction, its own uncommitted rows are seen: only its connection sees them.
        const inTransaction = await MikroOrmWrapper.forkManager().transactional(
          async (transactionManager) => {
            await transactionManager.getConnection().execute(
              `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, created_at, updated_at)
             VALUES ('wf_exec_uncommitted', 'imported', 'lookup-1', 'run-uncommitted', 'done', now(), now())`
            )
            return await engine.listWorkflowExecutions(
              { transaction_id: "lookup-1" },
              {},
              { transactionManager } as any
            )
          }
        )
        expect(inTransaction.map((row) => row.id)).toContain(
          "wf_exec_uncommitted"
        )
      })

      it("refuses a bad filter before any query, as before", async () => {
        await expect(
          engine.listWorkflowExecutions({ transaction_id: 42 } as any)
        ).rejects.toThrow(/transaction_id/)
      })
    }
  ),
})
