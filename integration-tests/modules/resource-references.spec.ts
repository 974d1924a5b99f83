import { TestDatabaseUtils } from "@medusajs/test-utils"
import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { MedusaError, Modules } from "@medusajs/framework/utils"
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
  TEST_DATABASE,
  withEngineShutdown,
} from "./__fixtures__/engine"
import { MAX_RESOURCE_IDS } from "../../src/modules/workflow-engine/references/resource-ids"
import { runOnlineUpgrade } from "../../src/modules/workflow-engine/upgrade/online-upgrade"

jest.setTimeout(60000)

const STORED = "test-resource-references"
const PLAIN = "test-resource-references-plain"

const takeInput = createStep(
  "test-take-input",
  async (input: Record<string, unknown>) => new StepResponse(input)
)
createWorkflow(
  { name: STORED, store: true, retentionTime: 99999 },
  (input: Record<string, unknown>) => new WorkflowResponse(takeInput(input))
)
createWorkflow(
  { name: PLAIN },
  (input: Record<string, unknown>) => new WorkflowResponse(takeInput(input))
)

async function expectInvalid(promise: Promise<unknown>, field: string) {
  const error: any = await promise.then(
    () => {
      throw new Error(`expected an INVALID_DATA error naming ${field}`)
    },
    (e) => e
  )
  expect(error).toBeInstanceOf(MedusaError)
  expect(error.type).toBe(MedusaError.Types.INVALID_DATA)
  expect(error.message).toContain(`"${field}"`)
}

/** A row as an engine before resource_ids wrote it: no resource_ids (NULL), the input in context.data.payload. */
async function insertOlderRow(
  db: Knex,
  id: string,
  payload: unknown,
  state = "done"
): Promise<void> {
  await db.raw(
    `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, execution, context)
     VALUES (?, 'older-engine', ?, 'run', ?, '{}'::jsonb, ?::jsonb)`,
    [
      id,
      `tx-${id}`,
      state,
      JSON.stringify({
        data: { payload, invoke: {}, compensate: {} },
        errors: [],
      }),
    ]
  )
}

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    const db = () => knexOf(medusaApp)

    async function store(
      input: Record<string, unknown>,
      transactionId: string
    ): Promise<string[] | null> {
      await engine.run(STORED, { input, transactionId })
      const { rows } = await db().raw(
        `SELECT resource_ids FROM workflow_execution WHERE transaction_id = ?`,
        [transactionId]
      )
      expect(rows).toHaveLength(1)
      return rows[0].resource_ids
    }

    describe("the ids a stored run is about", () => {
      it("are read from its input's top level: id, *_id and *_ids values with a listed prefix", async () => {
        expect(
          await store(
            {
              id: "order_01TOP",
              cart_id: "cart_01",
              customer_id: "cus_01",
              payment_collection_id: "pay_col_01",
              return_ids: ["return_01", "return_02", 7, "nope_01"],
              variant_ids: ["variant_01"],
              currency_code: "order_not_an_id_key",
              region_id: "reg_01",
            },
            "tx-top"
          )
        ).toEqual([
          "order_01TOP",
          "cart_01",
          "cus_01",
          "pay_col_01",
          "return_01",
          "return_02",
          "variant_01",
        ])
      })

      it("and one object down, once each; deeper objects and objects in arrays are not read", async () => {
        expect(
          await store(
            {
              order_id: "order_01",
              data: {
                order_id: "order_01",
                fulfillment_id: "ful_01",
                product_ids: ["prod_01"],
                deeper: { order_id: "order_DEEP" },
              },
              items: [{ id: "ordli_01", order_id: "order_IN_ARRAY" }],
            },
            "tx-nested"
          )
        ).toEqual(["order_01", "ful_01", "prod_01"])
      })

      it("are none without a listed prefix, and at most MAX_RESOURCE_IDS", async () => {
        expect(
          await store({ id: "wf_exec_1", region_id: "reg_1" }, "tx-none")
        ).toEqual([])
        const many = Array.from({ length: 50 }, (_, i) => `prod_${i}`)
        const kept = await store({ product_ids: many }, "tx-many")
        expect(kept).toEqual(many.slice(0, MAX_RESOURCE_IDS))
      })

      it("are written by the statement that stores the run: a stored run stays at 2 statements, a plain one at 0", async () => {
        // Without a caller's transaction id: with one, a lookup of it comes first (3 statements).
        const stored = await recordSql(db(), () =>
          engine.run(STORED, { input: { order_id: "order_STMT" } })
        )
        expect(stored.statements).toHaveLength(2)
        expect(stored.statements[0]).toMatch(
          /^INSERT INTO "workflow_execution"/
        )
        expect(stored.statements[0]).toContain('"resource_ids"')
        expect(
          await engine.listWorkflowExecutions({
            resource_id: "order_STMT",
          } as any)
        ).toHaveLength(1)
        const plain = await recordSql(db(), () =>
          engine.run(PLAIN, { input: { order_id: "order_STMT" } })
        )
        expect(plain.statements).toEqual([])
      })
    })

    describe("the resource_id filter", () => {
      beforeEach(async () => {
        await store({ order_id: "order_A", customer_id: "cus_1" }, "tx-a1")
        await store({ id: "order_A" }, "tx-a2")
        await store({ order_id: "order_B", customer_id: "cus_1" }, "tx-b")
        await store({ cart_id: "cart_1" }, "tx-c")
      })
      it("picks the runs of one id, or of any of a list", async () => {
        expect(
          transactions(
            await engine.listWorkflowExecutions({
              resource_id: "order_A",
            } as any)
          )
        ).toEqual(["tx-a1", "tx-a2"])
        const [rows, count] = await engine.listAndCountWorkflowExecutions({
          resource_id: ["order_B", "cart_1"],
        } as any)
        expect([transactions(rows), count]).toEqual([["tx-b", "tx-c"], 2])
        expect(
          await engine.listWorkflowExecutions({ resource_id: [] } as any)
        ).toEqual([])
        expect(
          await engine.listWorkflowExecutions({
            resource_id: "order_none",
          } as any)
        ).toEqual([])
      })

      it("combines with the other filters, q, paging and order", async () => {
        expect(
          transactions(
            await engine.listWorkflowExecutions({
              resource_id: "cus_1",
              transaction_id: { $ne: "tx-b" },
            } as any)
          )
        ).toEqual(["tx-a1"])
        expect(
          transactions(
            await engine.listWorkflowExecutions({
              resource_id: "order_A",
              q: "a2",
            } as any)
          )
        ).toEqual(["tx-a2"])
        expect(
          await engine.listWorkflowExecutions({
            resource_id: "order_A",
            state: "failed",
          } as any)
        ).toEqual([])
        const [page, count] = await engine.listAndCountWorkflowExecutions(
          {
            resource_id: "cus_1",
            $or: [{ workflow_id: STORED }, { state: "failed" }],
          } as any,
          { take: 1, order: { transaction_id: "DESC" } }
        )
        expect([page.map((row) => row.transaction_id), count]).toEqual([
          ["tx-b"],
          2,
        ])
      })

      it("matches ids with quotes, braces, commas and backslashes exactly, as data", async () => {
        const odd = [
          `order_'; DROP TABLE workflow_execution; --`,
          'order_"quoted"',
          "order_{a,b}",
          "order_back\\slash",
          "order_NULL",
        ]
        await store({ order_ids: odd }, "tx-odd")
        for (const id of odd) {
          expect(
            transactions(
              await engine.listWorkflowExecutions({ resource_id: id } as any)
            )
          ).toEqual(["tx-odd"])
        }
        expect(
          await engine.listWorkflowExecutions({
            resource_id: ["order_{a", "b}", "order_a,b", "NULL", "order_back"],
          } as any)
        ).toEqual([])
      })

      it("refuses anything but a string or an array of strings, naming resource_id", async () => {
        await expectInvalid(
          engine.listWorkflowExecutions({ resource_id: 5 } as any),
          "resource_id"
        )
        await expectInvalid(
          engine.listWorkflowExecutions({ resource_id: null } as any),
          "resource_id"
        )
        await expectInvalid(
          engine.listAndCountWorkflowExecutions({
            resource_id: { $in: ["order_A"] },
          } as any),
          "resource_id"
        )
        await expectInvalid(
          engine.listWorkflowExecutions({
            resource_id: ["order_A", 3],
          } as any),
          "resource_id[1]"
        )
        await expectInvalid(
          engine.listWorkflowExecutions({
            resource_id: "order_\u0000",
          } as any),
          "resource_id"
        )
        // Top level only, as q: inside $and it is an unknown field.
        await expectInvalid(
          engine.listWorkflowExecutions({
            $and: [{ resource_id: "order_A" }],
          } as any),
          "$and[0].resource_id"
        )
      })
    })

    describe("rows stored before resource_ids", () => {
      it("are filled by the online upgrade's back-fill, in batches, and found by the filter afterwards", async () => {
        await insertOlderRow(db(), "wf_exec_old_1", { order_id: "order_OLD" })
        await insertOlderRow(db(), "wf_exec_old_2", {
          input: { customer_id: "cus_OLD" },
          id: "cart_OLD",
        })
        await insertOlderRow(db(), "wf_exec_old_3", { value: 1 })
        await insertOlderRow(db(), "wf_exec_old_4", null, "failed")
        await store({ order_id: "order_OLD" }, "tx-new")
        expect(
          transactions(
            await engine.listWorkflowExecutions({
              resource_id: "order_OLD",
            } as any)
          )
        ).toEqual(["tx-new"])

        // What Migration20261207110000 queues on a table with rows.
        await db().raw(
          `INSERT INTO workflow_engine_upgrade_task (name) VALUES ('backfill:resource_ids')`
        )
        const upgrade = await runOnlineUpgrade(
          TestDatabaseUtils.getDatabaseURL(TEST_DATABASE),
          {
            wait: true,
            batchSize: 2,
            logger: { info: () => {}, warn: () => {} },
          }
        )
        expect(upgrade.finished).toEqual(["backfill:resource_ids"])
        expect(upgrade.rows).toBe(4)
        expect(upgrade.batches).toBe(3)

        const { rows } = await db().raw(
          `SELECT id, resource_ids FROM workflow_execution WHERE workflow_id = 'older-engine' ORDER BY id`
        )
        expect(rows).toEqual([
          { id: "wf_exec_old_1", resource_ids: ["order_OLD"] },
          { id: "wf_exec_old_2", resource_ids: ["cart_OLD", "cus_OLD"] },
          { id: "wf_exec_old_3", resource_ids: [] },
          { id: "wf_exec_old_4", resource_ids: [] },
        ])
        expect(
          transactions(
            await engine.listWorkflowExecutions({
              resource_id: "order_OLD",
            } as any)
          )
        ).toEqual(["tx-new", "tx-wf_exec_old_1"])
        const { rows: queued } = await db().raw(
          `SELECT name FROM workflow_engine_upgrade_task`
        )
        expect(queued).toEqual([])
      })
    })

    const transactions = (rows: { transaction_id: string }[]) =>
      rows.map((row) => row.transaction_id).sort()
  }),
})
