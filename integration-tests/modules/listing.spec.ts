import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { MedusaError, Modules } from "@medusajs/framework/utils"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  withEngineShutdown,
} from "./__fixtures__/engine"

jest.setTimeout(60000)

type Seed = {
  id: string
  workflow_id: string
  transaction_id: string
  state: string
  created_at: string
}

const SEEDS: Seed[] = [
  {
    id: "wf_exec_01",
    workflow_id: "create-order",
    transaction_id: "tx-alpha",
    state: "done",
    created_at: "2026-01-01T00:00:00Z",
  },
  {
    id: "wf_exec_02",
    workflow_id: "create-order",
    transaction_id: "tx-beta",
    state: "failed",
    created_at: "2026-01-02T00:00:00Z",
  },
  {
    id: "wf_exec_03",
    workflow_id: "refund-payment",
    transaction_id: "tx-gamma",
    state: "reverted",
    created_at: "2026-01-03T00:00:00Z",
  },
  {
    id: "wf_exec_04",
    workflow_id: "refund-payment",
    transaction_id: "tx-delta",
    state: "invoking",
    created_at: "2026-01-04T00:00:00Z",
  },
  {
    id: "wf_exec_05",
    workflow_id: "sync-stock",
    transaction_id: "tx-100%_off",
    state: "done",
    created_at: "2026-01-05T00:00:00Z",
  },
]

async function expectInvalid(promise: Promise<unknown>, field: string) {
  const error: any = await promise.then(
    () => {
      throw new Error(`expected an INVALID_DATA error naming ${field}`)
    },
    (e) => e
  )
  expect(error).toBeInstanceOf(MedusaError)
  expect(error.type).toBe(MedusaError.Types.INVALID_DATA)
  expect(error.message).toContain(field)
}

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    beforeEach(async () => {
      const db = knexOf(medusaApp)
      for (const seed of SEEDS) {
        await db.raw(
          `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, execution, context, created_at, updated_at)
           VALUES (?, ?, ?, 'run-1', ?, ?::jsonb, '{"data":{},"errors":[]}'::jsonb, ?, ?)`,
          [
            seed.id,
            seed.workflow_id,
            seed.transaction_id,
            seed.state,
            JSON.stringify({ state: seed.state }),
            seed.created_at,
            seed.created_at,
          ]
        )
      }
    })

    const ids = (rows: { id: string }[]) => rows.map((row) => row.id)

    describe("filters", () => {
      it("by id, workflow_id and transaction_id", async () => {
        expect(
          ids(await engine.listWorkflowExecutions({ id: "wf_exec_03" }))
        ).toEqual(["wf_exec_03"])
        expect(
          ids(
            await engine.listWorkflowExecutions(
              { workflow_id: "create-order" },
              { order: { id: "ASC" } }
            )
          )
        ).toEqual(["wf_exec_01", "wf_exec_02"])
        expect(
          ids(
            await engine.listWorkflowExecutions(
              { transaction_id: ["tx-beta", "tx-delta"] },
              { order: { id: "ASC" } }
            )
          )
        ).toEqual(["wf_exec_02", "wf_exec_04"])
      })

      it("by state as a string, an array and operators", async () => {
        const order = { order: { id: "ASC" as const } }
        expect(
          ids(await engine.listWorkflowExecutions({ state: "done" }, order))
        ).toEqual(["wf_exec_01", "wf_exec_05"])
        expect(
          ids(
            await engine.listWorkflowExecutions(
              { state: ["failed", "reverted"] },
              order
            )
          )
        ).toEqual(["wf_exec_02", "wf_exec_03"])
        expect(
          ids(
            await engine.listWorkflowExecutions(
              { state: { $in: ["invoking"] } },
              order
            )
          )
        ).toEqual(["wf_exec_04"])
        expect(
          ids(
            await engine.listWorkflowExecutions(
              { state: { $nin: ["done", "invoking"] } },
              order
            )
          )
        ).toEqual(["wf_exec_02", "wf_exec_03"])
      })

      it("by created_at and updated_at operator maps", async () => {
        const rows = await engine.listWorkflowExecutions(
          {
            created_at: {
              $gte: "2026-01-02T00:00:00Z",
              $lt: "2026-01-04T00:00:00Z",
            },
          },
          { order: { created_at: "ASC" } }
        )
        expect(ids(rows)).toEqual(["wf_exec_02", "wf_exec_03"])
        const updated = await engine.listWorkflowExecutions({
          updated_at: { $gt: "2026-01-04T12:00:00Z" },
        })
        expect(ids(updated)).toEqual(["wf_exec_05"])
      })

      it("by q, case-insensitively, on transaction_id, workflow_id and state", async () => {
        const order = { order: { id: "ASC" as const } }
        expect(
          ids(await engine.listWorkflowExecutions({ q: "REFUND" }, order))
        ).toEqual(["wf_exec_03", "wf_exec_04"])
        expect(
          ids(await engine.listWorkflowExecutions({ q: "alph" }, order))
        ).toEqual(["wf_exec_01"])
        expect(
          ids(await engine.listWorkflowExecutions({ q: "revert" }, order))
        ).toEqual(["wf_exec_03"])
      })

      it("combines q with any other filter", async () => {
        expect(
          ids(
            await engine.listWorkflowExecutions({ q: "order", state: "failed" })
          )
        ).toEqual(["wf_exec_02"])
        const [rows, count] = await engine.listAndCountWorkflowExecutions({
          q: "tx-",
          workflow_id: "refund-payment",
          state: ["invoking"],
        })
        expect(ids(rows)).toEqual(["wf_exec_04"])
        expect(count).toBe(1)
      })

      it("treats % and _ in q as plain characters", async () => {
        expect(
          ids(await engine.listWorkflowExecutions({ q: "100%_" }))
        ).toEqual(["wf_exec_05"])
        expect(await engine.listWorkflowExecutions({ q: "%" })).toHaveLength(1)
      })
    })

    describe("paging, order and select", () => {
      it("pages newest first with an exact count, as the admin list asks", async () => {
        const [page, count] = await engine.listAndCountWorkflowExecutions(
          {},
          { take: 2, skip: 1, order: { created_at: "DESC" } }
        )
        expect(count).toBe(5)
        expect(ids(page)).toEqual(["wf_exec_04", "wf_exec_03"])
      })

      it("returns only the selected fields, plus the primary key", async () => {
        const [row] = await engine.listWorkflowExecutions(
          { id: "wf_exec_01" },
          { select: ["id", "state"] }
        )
        expect(row).toEqual({
          id: "wf_exec_01",
          state: "done",
          workflow_id: "create-order",
          transaction_id: "tx-alpha",
          run_id: "run-1",
        })
      })
    })

    describe("retrieve", () => {
      it("by wf_exec id", async () => {
        const execution = await engine.retrieveWorkflowExecution("wf_exec_02")
        expect(execution).toEqual(
          expect.objectContaining({
            workflow_id: "create-order",
            transaction_id: "tx-beta",
          })
        )
      })

      it("by workflow_id and transaction_id, newest run first", async () => {
        await knexOf(medusaApp).raw(
          `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, created_at)
           VALUES ('wf_exec_06', 'create-order', 'tx-alpha', 'run-2', 'done', '2026-02-01T00:00:00Z')`
        )
        const execution = await engine.retrieveWorkflowExecution({
          workflow_id: "create-order",
          transaction_id: "tx-alpha",
        })
        expect(execution.id).toBe("wf_exec_06")
      })

      it("is NOT_FOUND for an unknown execution", async () => {
        const error: any = await engine
          .retrieveWorkflowExecution("wf_exec_nope")
          .catch((e) => e)
        expect(error).toBeInstanceOf(MedusaError)
        expect(error.type).toBe(MedusaError.Types.NOT_FOUND)
        expect(error.message).toContain("wf_exec_nope")
      })
    })

    describe("bad input", () => {
      it("is INVALID_DATA naming the field, never a database error", async () => {
        await expectInvalid(
          engine.listWorkflowExecutions({ colour: "red" } as any),
          "colour"
        )
        await expectInvalid(
          engine.listWorkflowExecutions({ state: 123 } as any),
          "state"
        )
        await expectInvalid(
          engine.listWorkflowExecutions({ state: "exploded" }),
          "state"
        )
        await expectInvalid(
          engine.listWorkflowExecutions({ state: { $in: ["done", "nope"] } }),
          "state"
        )
        await expectInvalid(
          engine.listWorkflowExecutions({
            workflow_id: { $regex: ".*" },
          } as any),
          "workflow_id.$regex"
        )
        await expectInvalid(
          engine.listWorkflowExecutions({
            created_at: { $gt: "yesterday-ish" },
          }),
          "created_at.$gt"
        )
        await expectInvalid(
          engine.listWorkflowExecutions({ q: 42 } as any),
          "q"
        )
        await expectInvalid(
          engine.listWorkflowExecutions({}, { take: -1 }),
          "take"
        )
        await expectInvalid(
          engine.listWorkflowExecutions({}, { take: 100000 }),
          "take"
        )
        await expectInvalid(
          engine.listWorkflowExecutions({}, { skip: 1.5 }),
          "skip"
        )
        await expectInvalid(
          engine.listWorkflowExecutions(
            {},
            { order: { "id; drop table x": "ASC" } as any }
          ),
          "order"
        )
        await expectInvalid(
          engine.listWorkflowExecutions(
            {},
            { order: { id: "sideways" } as any }
          ),
          "order.id"
        )
        await expectInvalid(
          engine.listAndCountWorkflowExecutions(
            {},
            { select: ["password"] as any }
          ),
          "select"
        )
        await expectInvalid(
          engine.retrieveWorkflowExecution({ workflow_id: "x" } as any),
          "transaction_id"
        )
        // Nothing was harmed on the way.
        expect(await engine.listWorkflowExecutions({})).toHaveLength(
          SEEDS.length
        )
      })
    })
  }),
})
