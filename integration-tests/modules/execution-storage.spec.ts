import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
} from "./__fixtures__/engine"
import { seedExpired } from "./__fixtures__/seed-executions"

jest.setTimeout(120000)

type StorageEngine = IWorkflowEngineService & {
  retrieveExecutionStorage(): Promise<any>
  retrieveExecutionRetention(id: string): Promise<any>
}

/*
 * The storage report and the per-execution retention against the module
 * options that decide retention: which setting gave a run its retention is
 * what the admin panel explains.
 */
moduleIntegrationTestRunner<StorageEngine>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  moduleOptions: {
    defaultRetentionTime: 600,
    retentionTimeByState: { failed: 7200 },
  },
  testSuite: ({ service: engine, medusaApp }) => {
    /** A row as this engine writes a finished run: the flow keeps the workflow's options. */
    async function insert(
      id: string,
      state: string,
      workflowRetention: number | null,
      retentionTime: number | null
    ) {
      const options =
        workflowRetention === null
          ? { store: true }
          : { store: true, retentionTime: workflowRetention }
      await knexOf(medusaApp).raw(
        `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, execution, retention_time, expires_at)
         VALUES (?, 'report', ?, 'run', ?, ?::jsonb, ?,
                 CASE WHEN ?::int IS NULL THEN NULL ELSE now() + make_interval(secs => ?::int) END)`,
        [
          id,
          `tx-${id}`,
          state,
          JSON.stringify({ options }),
          retentionTime,
          retentionTime,
          retentionTime,
        ]
      )
    }

    describe("retrieveExecutionRetention", () => {
      it.each([
        ["its workflow's retentionTime", "done", 60, 60, "workflow"],
        [
          "the module's defaultRetentionTime",
          "done",
          null,
          600,
          "default_retention_time",
        ],
        [
          "retentionTimeByState, longer than the workflow's",
          "failed",
          60,
          7200,
          "retention_time_by_state",
        ],
        [
          "the workflow's, longer than retentionTimeByState",
          "failed",
          86400,
          86400,
          "workflow",
        ],
        ["other options than today's", "done", 60, 30, "options_changed"],
      ])(
        "names %s as the source",
        async (_, state, workflowRetention, retentionTime, source) => {
          await insert(
            "wf_exec_one",
            state as string,
            workflowRetention as number | null,
            retentionTime as number
          )
          const retention =
            await engine.retrieveExecutionRetention("wf_exec_one")
          expect(retention).toEqual(
            expect.objectContaining({
              state,
              finished: true,
              retention_seconds: retentionTime,
              source,
              expires_at: expect.any(Date),
              expired: false,
              kept_forever: false,
              on_finish: null,
            })
          )
        }
      )

      it("gives a run in flight the retention of each outcome", async () => {
        await insert("wf_exec_running", "invoking", null, null)
        try {
          const retention =
            await engine.retrieveExecutionRetention("wf_exec_running")
          expect(retention.on_finish).toEqual({
            done: { seconds: 600, source: "default_retention_time" },
            failed: { seconds: 7200, source: "retention_time_by_state" },
            reverted: { seconds: 600, source: "default_retention_time" },
          })
          expect(retention).toEqual(
            expect.objectContaining({
              finished: false,
              expires_at: null,
              source: null,
            })
          )
        } finally {
          await knexOf(medusaApp).raw(
            `DELETE FROM workflow_execution WHERE id = 'wf_exec_running'`
          )
        }
      })

      it("throws NOT_FOUND for an id it does not hold", async () => {
        await expect(
          engine.retrieveExecutionRetention("wf_exec_missing")
        ).rejects.toThrow(
          "WorkflowExecution with id: wf_exec_missing was not found"
        )
      })
    })

    describe("retrieveExecutionStorage", () => {
      it("reports the options in force and counts expired rows through the counters and the expiry index", async () => {
        await seedExpired(knexOf(medusaApp), 30)
        await insert("wf_exec_fresh", "done", 60, 60)

        const storage = await engine.retrieveExecutionStorage()

        expect(storage.retention).toEqual({
          default_retention_seconds: 600,
          retention_seconds_by_state: { failed: 7200 },
          purge_interval_seconds: 900,
          purge_batch_size: 5000,
        })
        expect(storage.total_executions).toEqual(31)
        expect(
          storage.groups.map((group: any) => [
            group.workflow_id,
            group.state,
            group.executions,
          ])
        ).toEqual([
          ["bulk", "done", 10],
          ["bulk", "failed", 10],
          ["bulk", "reverted", 10],
          ["report", "done", 1],
        ])
        expect(storage.expired).toEqual({ executions: 30, capped: false })
        expect(storage.kept_forever).toEqual(0)
      })
    })
  },
})
