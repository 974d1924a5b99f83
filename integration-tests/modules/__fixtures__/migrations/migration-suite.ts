import { moduleIntegrationTestRunner } from "@medusajs/test-utils"
import {
  IWorkflowEngineService,
  WorkflowExecutionDTO,
} from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import type { WorkflowsModuleService } from "../../../../src/modules/workflow-engine/services/workflows-module"
import { MODULE_PATH, withEngineShutdown } from "../engine"
import { WF } from "../workflows"
import {
  dropDatabase,
  ensureDatabase,
  migrate,
  MIGRATION_DIRS,
  resetSchema,
  withClient,
} from "./database"
import { asRead, DB, detectTrigrams, migrationNames } from "./expectations"
import {
  insertMedusaRows,
  MEDUSA_WORKFLOW,
  MedusaRow,
  medusaRows,
} from "./medusa-rows"

/*
 * The migration specs (migration-*.spec.ts): our migrations against tables
 * that Medusa's own engines created, on a real Postgres. Every test starts from an empty `public` schema of its own
 * database, runs Medusa's real migrations from node_modules with MikroORM's
 * migrator (as `medusa db:migrate` does), writes Medusa-shaped rows, then runs
 * our migrations on top and reads the result through our module.
 *
 * Our directory holds ten migrations, applied in order: the first creates or
 * aligns `workflow_execution` and adds two indexes (created_at, the in-flight
 * guard); the second adds retention: the `expires_at` column (filled for the
 * finished rows already there), its index, and the tables
 * `workflow_execution_purge` (audit trail) and `workflow_execution_purge_schedule`
 * (which the seventh drops again: nothing writes it since the purge became a cluster schedule);
 * the third adds what listing at scale reads: the table `workflow_execution_count`
 * (live runs by workflow and state, spread over slots), filled from the rows
 * already there and kept exact by four triggers on `workflow_execution` (and
 * their three functions), an index on (workflow_id, state, created_at) and,
 * where the server ships pg_trgm, the extension and a trigram index on
 * transaction_id; the fourth adds the partial index of finished runs without
 * retention or expiry ("kept forever") that the admin's storage card counts;
 * the fifth the tables many instances share and the owner column; the sixth
 * drops four indexes; the seventh adds the log of finishes; the eighth drops
 * the purge's schedule table; the ninth adds the fencing epoch of runs.
 */

/** The module's service, with the retention methods the plugin adds to the interface. */
export type Engine = IWorkflowEngineService &
  Pick<
    WorkflowsModuleService,
    | "purgeExpiredExecutions"
    | "listWorkflowExecutionPurges"
    | "finishUpgrade"
    | "retrieveExecutionStorage"
    | "retrieveExecutionRetention"
  >

/** What each migration spec's tests are given: the module on DB, and the checks that read through it. */
export type MigrationSuite = {
  engine: Engine
  expectModuleReads: (
    rows: MedusaRow[],
    options?: { counters?: boolean }
  ) => Promise<void>
  expectNewRunStored: (existing: number) => Promise<void>
  startupWarnings: () => Promise<string[]>
}

/**
 * Runs `suite` on DB, made before the spec and dropped after it, with the
 * module loaded on an empty `public` schema before each test.
 */
export function migrationSuite(suite: (args: MigrationSuite) => void): void {
  beforeAll(async () => {
    await ensureDatabase(DB)
    await detectTrigrams()
  })

  afterAll(async () => {
    await dropDatabase(DB)
  })

  moduleIntegrationTestRunner<Engine>({
    moduleName: Modules.WORKFLOW_ENGINE,
    resolve: MODULE_PATH,
    dbName: DB,
    // No models for the runner: it must neither migrate nor refresh the schema;
    // each test builds the table itself, the way a store got it.
    moduleModels: [],
    testSuite: withEngineShutdown(({ service: engine }) => {
      beforeEach(async () => {
        await resetSchema(DB)
      })

      /**
       * The module reads the rows as Medusa wrote them. `counters: false` leaves
       * out what the module reads through the counters of our third migration,
       * so needs it applied: the totals of its lists, and `q` (the workflows it
       * searches are picked from the counters).
       */
      async function expectModuleReads(
        rows: MedusaRow[],
        { counters = true }: { counters?: boolean } = {}
      ) {
        const newestFirst = [...rows].sort((a, b) =>
          b.created_at.localeCompare(a.created_at)
        )

        const listed = await engine.listWorkflowExecutions(
          {},
          { order: { created_at: "DESC" } }
        )
        expect(listed).toEqual(newestFirst.map(asRead))

        const page = await engine.listWorkflowExecutions(
          {},
          { take: 2, skip: 1, order: { created_at: "DESC" } }
        )
        expect(page).toEqual(newestFirst.slice(1, 3).map(asRead))

        if (counters) {
          const [countedPage, count] =
            await engine.listAndCountWorkflowExecutions(
              {},
              { take: 2, skip: 1, order: { created_at: "DESC" } }
            )
          expect(count).toBe(rows.length)
          expect(countedPage).toEqual(page)

          const payments = rows.filter(
            (r) => r.workflow_id === MEDUSA_WORKFLOW.payment
          )
          const [, paymentCount] = await engine.listAndCountWorkflowExecutions({
            workflow_id: MEDUSA_WORKFLOW.payment,
          })
          expect(paymentCount).toBe(payments.length)
        }

        const inFlight = await engine.listWorkflowExecutions({
          state: "invoking",
        })
        expect(inFlight).toEqual(
          rows.filter((r) => r.state === "invoking").map(asRead)
        )

        if (counters) {
          const searched = await engine.listWorkflowExecutions({
            q: "refund",
          } as any)
          expect(searched.map((e) => e.transaction_id)).toEqual([
            "pay_01KAWREFUND",
          ])
        }

        for (const row of rows) {
          expect(await engine.retrieveWorkflowExecution(row.id)).toEqual(
            asRead(row)
          )
        }

        // By transaction: the newest run of it.
        const [newestOrder] = newestFirst.filter(
          (r) => r.workflow_id === MEDUSA_WORKFLOW.order
        )
        expect(
          await engine.retrieveWorkflowExecution({
            workflow_id: newestOrder.workflow_id,
            transaction_id: newestOrder.transaction_id,
          } as any)
        ).toEqual(asRead(newestOrder))
      }

      /** A stored run through our engine lands in the same table, next to Medusa's rows. */
      async function expectNewRunStored(existing: number) {
        const { transaction, result } = await engine.run(WF.storedThreeSteps, {
          input: { value: 3 },
        })
        expect(result).toEqual({ "test-step-one": 3 })

        const [stored, ...others] = await engine.listWorkflowExecutions({
          transaction_id: transaction.transactionId,
        })
        expect(others).toEqual([])
        expect(stored).toEqual(
          expect.objectContaining({
            id: expect.stringMatching(/^wf_exec_/),
            workflow_id: WF.storedThreeSteps,
            state: "done",
            retention_time: 99999,
          })
        )
        expect((stored as WorkflowExecutionDTO).execution!.runId).toBe(
          (stored as any).run_id
        )
        expect(await engine.retrieveWorkflowExecution(stored.id)).toEqual(
          expect.objectContaining({ id: stored.id })
        )

        const [, count] = await engine.listAndCountWorkflowExecutions({})
        expect(count).toBe(existing + 1)
      }

      /** The warnings the module logs when the application starts. */
      async function startupWarnings(): Promise<string[]> {
        const warn = jest
          .spyOn(console, "warn")
          .mockImplementation(() => undefined)
        try {
          await (engine as any).__hooks.onApplicationStart()
          return warn.mock.calls.map((call) => String(call[0]))
        } finally {
          warn.mockRestore()
        }
      }

      suite({ engine, expectModuleReads, expectNewRunStored, startupWarnings })
    }),
  })
}

/** The table of Medusa's engine `kind` (all of its migrations), holding `rows`. */
export async function prepareMedusaTable(
  kind: "inmemory" | "redis",
  rows: MedusaRow[] = medusaRows()
): Promise<MedusaRow[]> {
  const medusa = await migrate(DB, MIGRATION_DIRS[kind])
  expect(medusa.executed).toEqual(migrationNames(MIGRATION_DIRS[kind]))
  await withClient(DB, (client) => insertMedusaRows(client, rows))
  return rows
}
