import { moduleIntegrationTestRunner } from "./__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  recordSql,
  withEngineShutdown,
} from "./__fixtures__/engine"
import { WF } from "./__fixtures__/workflows"

jest.setTimeout(120000)

const WORKFLOWS = ["create-order", "refund-payment", "sync-stock"]
const STATES = ["done", "failed", "reverted", "invoking"]

/** Rows spread over workflows and states, inserted in one statement like a bulk import. */
async function seed(db: Knex, count: number, prefix = "tx"): Promise<void> {
  await db.raw(
    `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, created_at, updated_at)
     SELECT 'wf_exec_' || ? || i, (?::text[])[1 + i % 3], ? || '-' || lpad(i::text, 5, '0'), 'run-1',
            (?::text[])[1 + (i / 3) % 4], timestamp '2026-01-01' + i * interval '1 minute', timestamp '2026-01-01'
       FROM generate_series(1, ?) AS i`,
    [prefix, WORKFLOWS, prefix, STATES, count]
  )
}

/** The truth the counters must agree with: the table, counted. */
async function counted(
  db: Knex,
  where = "TRUE",
  bindings: string[] = []
): Promise<number> {
  const { rows } = await db.raw(
    `SELECT count(*)::int AS n FROM workflow_execution WHERE deleted_at IS NULL AND (${where})`,
    bindings
  )
  return rows[0].n
}

const countsTable = (statements: string[]) =>
  statements.filter((sql) => /from "workflow_execution_count"/i.test(sql))
const countsRows = (statements: string[]) =>
  statements.filter(
    (sql) => /count\(/i.test(sql) && /from "workflow_execution" /i.test(sql)
  )

moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: withEngineShutdown(({ service: engine, medusaApp }) => {
    beforeAll(() => require("./__fixtures__/workflows"))

    async function expectTotals(db: Knex) {
      expect(
        (await engine.listAndCountWorkflowExecutions({}, { take: 1 }))[1]
      ).toBe(await counted(db))
      for (const workflow of WORKFLOWS) {
        for (const state of STATES) {
          const [, total] = await engine.listAndCountWorkflowExecutions(
            { workflow_id: workflow, state },
            { take: 1 }
          )
          expect(total).toBe(
            await counted(db, "workflow_id = ? AND state = ?", [
              workflow,
              state,
            ])
          )
        }
      }
    }

    describe("totals of the admin list", () => {
      it("come from the counters, not from counting rows, and equal the table's count", async () => {
        const db = knexOf(medusaApp)
        await seed(db, 240)
        const { result, statements } = await recordSql(db, () =>
          engine.listAndCountWorkflowExecutions(
            {},
            { take: 20, order: { created_at: "DESC" } }
          )
        )
        expect(result[1]).toBe(240)
        expect(result[0]).toHaveLength(20)
        expect(countsTable(statements)).toHaveLength(1)
        expect(countsRows(statements)).toEqual([])

        // An empty q, as an empty search box sends it, filters nothing.
        const emptySearch = await recordSql(db, () =>
          engine.listAndCountWorkflowExecutions({ q: "" }, { take: 20 })
        )
        expect(emptySearch.result[1]).toBe(240)
        expect(countsRows(emptySearch.statements)).toEqual([])

        const filtered = await recordSql(db, () =>
          engine.listAndCountWorkflowExecutions({
            workflow_id: ["create-order", "sync-stock"],
            state: { $in: ["failed", "done"] },
          })
        )
        expect(filtered.result[1]).toBe(
          await counted(
            db,
            "workflow_id IN ('create-order', 'sync-stock') AND state IN ('failed', 'done')"
          )
        )
        expect(filtered.result[0]).toHaveLength(filtered.result[1])
        expect(countsRows(filtered.statements)).toEqual([])
        await expectTotals(db)
      })

      it("stay exact through runs, state changes, soft deletes, deletes, purges and truncation", async () => {
        const db = knexOf(medusaApp)
        await seed(db, 60)
        for (let i = 0; i < 5; i++) {
          await engine.run(WF.storedThreeSteps, { input: { value: i } })
        }
        await engine.run(WF.compensated, { throwOnError: false })
        await expectTotals(db)
        expect(
          (
            await engine.listAndCountWorkflowExecutions({
              workflow_id: WF.storedThreeSteps,
              state: "done",
            })
          )[1]
        ).toBe(5)

        await db.raw(
          `UPDATE workflow_execution SET state = 'done' WHERE state = 'invoking' AND workflow_id = 'sync-stock'`
        )
        await db.raw(
          `UPDATE workflow_execution SET deleted_at = now() WHERE workflow_id = 'refund-payment' AND state = 'failed'`
        )
        await (engine as any).softDeleteWorkflowExecutions({
          workflow_id: "create-order",
          state: "reverted",
        })
        await expectTotals(db)

        await db.raw(
          `UPDATE workflow_execution SET deleted_at = NULL WHERE workflow_id = 'refund-payment'`
        )
        await db.raw(
          `DELETE FROM workflow_execution WHERE state = 'done' AND workflow_id = 'create-order'`
        )
        await db.raw(
          `UPDATE workflow_execution SET expires_at = now() - interval '1 second', state = 'failed' WHERE workflow_id = 'sync-stock'`
        )
        const purged = await (engine as any).purgeExpiredExecutions({})
        expect(purged.deleted).toBeGreaterThan(0)
        await expectTotals(db)

        await db.raw(`TRUNCATE workflow_execution`)
        expect((await engine.listAndCountWorkflowExecutions({}))[1]).toBe(0)
        await seed(db, 9, "again")
        await expectTotals(db)
      })

      it("stay exact when many sessions write at once", async () => {
        const db = knexOf(medusaApp)
        await Promise.all(
          Array.from({ length: 48 }, (_, i) =>
            i % 3 === 2
              ? engine.run(WF.compensated, { throwOnError: false })
              : engine.run(WF.storedThreeSteps, { input: { value: i } })
          )
        )
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            db.raw(
              `UPDATE workflow_execution SET state = 'failed' WHERE ctid IN (SELECT ctid FROM workflow_execution WHERE state = 'done' ORDER BY id OFFSET ? LIMIT 1)`,
              [i * 3]
            )
          )
        )
        expect((await engine.listAndCountWorkflowExecutions({}))[1]).toBe(48)
        expect(
          (
            await engine.listAndCountWorkflowExecutions({
              workflow_id: WF.storedThreeSteps,
            })
          )[1]
        ).toBe(await counted(db, "workflow_id = ?", [WF.storedThreeSteps]))
        expect(
          (await engine.listAndCountWorkflowExecutions({ state: "failed" }))[1]
        ).toBe(await counted(db, "state = 'failed'"))
      })

      it("are counted by the query for filters the counters do not cover, and for soft-deleted rows", async () => {
        const db = knexOf(medusaApp)
        await seed(db, 30)
        await db.raw(
          `UPDATE workflow_execution SET deleted_at = now() WHERE id = 'wf_exec_tx1'`
        )
        const { result, statements } = await recordSql(db, () =>
          engine.listAndCountWorkflowExecutions({
            transaction_id: ["tx-00002", "tx-00003"],
            state: { $ne: "failed" },
          })
        )
        expect(result[1]).toBe(
          await counted(
            db,
            "transaction_id IN ('tx-00002', 'tx-00003') AND state <> 'failed'"
          )
        )
        expect(countsTable(statements)).toEqual([])
        const [, withDeleted] = await engine.listAndCountWorkflowExecutions(
          {},
          { withDeleted: true } as any
        )
        expect(withDeleted).toBe(30)
        expect((await engine.listAndCountWorkflowExecutions({}))[1]).toBe(29)
      })
    })

    describe("totals of lookups by id, transaction or run", () => {
      it("come from the page when it is not full, and from a count when it is full or skipped past", async () => {
        const db = knexOf(medusaApp)
        await seed(db, 30)
        const byTransaction = { transaction_id: { $like: "tx-0000%" } }
        const truth = await counted(db, "transaction_id LIKE 'tx-0000%'")
        expect(truth).toBe(9)

        const short = await recordSql(db, () =>
          engine.listAndCountWorkflowExecutions(byTransaction, { take: 20 })
        )
        expect(short.result[1]).toBe(truth)
        expect(short.statements).toHaveLength(1)

        const last = await engine.listAndCountWorkflowExecutions(
          byTransaction,
          { take: 4, skip: 8 }
        )
        expect([last[0].length, last[1]]).toEqual([1, truth])

        const full = await recordSql(db, () =>
          engine.listAndCountWorkflowExecutions(byTransaction, { take: 4 })
        )
        expect([full.result[0].length, full.result[1]]).toEqual([4, truth])
        expect(full.statements.some((sql) => /count\(/i.test(sql))).toBe(true)

        const past = await engine.listAndCountWorkflowExecutions(
          byTransaction,
          { take: 4, skip: 40 }
        )
        expect([past[0].length, past[1]]).toEqual([0, truth])
      })
    })

    describe("q at scale", () => {
      const reference = (db: Knex, q: string) =>
        db
          .raw(
            `SELECT id FROM workflow_execution
              WHERE deleted_at IS NULL
                AND (transaction_id ILIKE ? OR workflow_id ILIKE ? OR state ILIKE ?)
              ORDER BY created_at DESC, id DESC`,
            [`%${q}%`, `%${q}%`, `%${q}%`]
          )
          .then((result: any) =>
            result.rows.map((row: { id: string }) => row.id)
          )

      async function expectSameAsReference(db: Knex, q: string) {
        const expected = await reference(db, q)
        const [rows, total] = await engine.listAndCountWorkflowExecutions(
          { q },
          { take: 1000, order: { created_at: "DESC", id: "DESC" } }
        )
        expect({ q, ids: rows.map((row) => row.id), total }).toEqual({
          q,
          ids: expected.slice(0, 1000),
          total: expected.length,
        })
      }

      it("finds and counts what an ILIKE on transaction_id, workflow_id and state finds, with and without the trigram index", async () => {
        const db = knexOf(medusaApp)
        await seed(db, 120, "tx")
        await seed(db, 12, "refund")
        const queries = [
          "00011",
          "refund",
          "REFUND-0000",
          "fail",
          "order",
          "-0010",
          "nothing-like-this",
          "e",
        ]
        for (const q of queries) {
          await expectSameAsReference(db, q)
        }
        // The migration creates the index wherever the server ships pg_trgm.
        const trigrams = await db.raw(
          `SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'`
        )
        const indexes = await db.raw(
          `SELECT indexname FROM pg_indexes WHERE indexname = 'IDX_workflow_execution_transaction_id_trgm'`
        )
        expect(indexes.rows).toHaveLength(trigrams.rows.length ? 1 : 0)

        // Without pg_trgm (a database that cannot have it), q reads the table and answers the same.
        await db.raw(
          `DROP INDEX IF EXISTS "IDX_workflow_execution_transaction_id_trgm"`
        )
        for (const q of queries) {
          await expectSameAsReference(db, q)
        }

        // There, transaction id matches are found in one unsorted pass and listed by id...
        const { statements } = await recordSql(db, () =>
          engine.listAndCountWorkflowExecutions({ q: "00011" }, { take: 20 })
        )
        expect(
          statements.filter((sql) => /"transaction_id" ilike/i.test(sql))
        ).toHaveLength(1)
        expect(
          statements.some((sql) =>
            /"transaction_id" ilike[\s\S]*order by/i.test(sql)
          )
        ).toBe(false)

        // ...up to 1000 of them; past that, the list query matches the pattern itself.
        await seed(db, 1100, "bulk")
        await expectSameAsReference(db, "bulk-00")
        await expectSameAsReference(db, "bulk-0")
      })

      it("counts the workflows and states it matches from the counters", async () => {
        const db = knexOf(medusaApp)
        await seed(db, 60)
        const { result, statements } = await recordSql(db, () =>
          engine.listAndCountWorkflowExecutions({ q: "sync" }, { take: 5 })
        )
        expect(result[1]).toBe(20)
        expect(countsTable(statements).length).toBeGreaterThan(0)
        expect(statements.some((sql) => /"workflow_id" in/i.test(sql))).toBe(
          true
        )
      })

      it("combined with other filters, lists and counts through the query", async () => {
        const db = knexOf(medusaApp)
        await seed(db, 60)
        const [rows, total] = await engine.listAndCountWorkflowExecutions({
          q: "order",
          state: "failed",
        })
        expect(total).toBe(
          await counted(db, "workflow_id ILIKE '%order%' AND state = 'failed'")
        )
        expect(rows).toHaveLength(total)
      })
    })
  }),
})
