import { WF } from "./__fixtures__/workflows"
import {
  forgetMigration,
  migrate,
  MIGRATION_DIRS,
  OUR_COUNT_MIGRATION,
  OUR_MIGRATIONS,
  withClient,
} from "./__fixtures__/migrations/database"
import {
  countsNow,
  DB,
  expectCounters,
  expectCountsExact,
  liveCountsOf,
  rowsNow,
  shapeOf,
  tablesNow,
  withoutExpiry,
} from "./__fixtures__/migrations/expectations"
import {
  insertMedusaRows,
  MEDUSA_WORKFLOW,
  MedusaRow,
  medusaRows,
  medusaRowsWithSoftDeleted,
} from "./__fixtures__/migrations/medusa-rows"
import {
  migrationSuite,
  prepareMedusaTable,
} from "./__fixtures__/migrations/migration-suite"

/*
 * The counters of our third migration on the tables Medusa's own engines
 * leave (see migration-suite): counted exactly from the rows there, kept
 * exact whichever engine writes, counted again when the migration runs again.
 */

jest.setTimeout(60000)

migrationSuite(({ engine }) => {
  for (const kind of ["inmemory", "redis"] as const) {
    describe(`on the table of @medusajs/workflow-engine-${kind} (all of its migrations)`, () => {
      const prepare = (rows?: MedusaRow[]) => prepareMedusaTable(kind, rows)

      it("counts the runs Medusa's engine wrote before our migrations exactly, leaving out the soft-deleted ones", async () => {
        const seed = medusaRowsWithSoftDeleted()
        await prepare(seed.all)
        const rowsBefore = await rowsNow()
        expect(
          rowsBefore
            .filter((r) => r.deleted_at !== null)
            .map((r) => r.id)
            .sort()
        ).toEqual(
          [seed.softDeletedFailed.id, seed.softDeletedReverted.id].sort()
        )

        expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({
          executed: OUR_MIGRATIONS,
          warnings: [],
        })
        expect(withoutExpiry(await rowsNow())).toEqual(rowsBefore)

        const { counted, live } = await countsNow()
        // Per workflow and state, the sum of its slots is the number of live rows, and nothing else is counted.
        expect(counted).toEqual(live)
        expect(counted).toEqual(liveCountsOf(seed.live))
        expect(counted).toEqual([
          {
            workflow_id: MEDUSA_WORKFLOW.payment,
            state: "failed",
            executions: 1,
          },
          {
            workflow_id: MEDUSA_WORKFLOW.payment,
            state: "reverted",
            executions: 1,
          },
          { workflow_id: MEDUSA_WORKFLOW.order, state: "done", executions: 2 },
          {
            workflow_id: MEDUSA_WORKFLOW.fulfillment,
            state: "invoking",
            executions: 1,
          },
        ])
        // Counted once, from the snapshot the migration read: one counter per workflow and state.
        const stored = await withClient(
          DB,
          async (client) =>
            (await client.query(`SELECT * FROM workflow_execution_count`)).rows
        )
        expect(stored).toHaveLength(counted.length)

        // What the module counts for the admin's list is what the table holds.
        const [, total] = await engine.listAndCountWorkflowExecutions({})
        expect(total).toBe(seed.live.length)
        const [, failedPayments] = await engine.listAndCountWorkflowExecutions({
          workflow_id: MEDUSA_WORKFLOW.payment,
          state: "failed",
        } as any)
        expect(failedPayments).toBe(1)
        const [, revertedOrders] = await engine.listAndCountWorkflowExecutions({
          workflow_id: MEDUSA_WORKFLOW.order,
          state: "reverted",
        } as any)
        expect(revertedOrders).toBe(0)
      })

      it("keeps the counts exact whichever engine writes: inserts, upserts, state changes, soft deletes and restores, deletes, purges, truncate", async () => {
        const seed = medusaRowsWithSoftDeleted()
        await prepare(seed.all)
        expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({
          executed: OUR_MIGRATIONS,
          warnings: [],
        })
        await expectCountsExact()
        const shipment = seed.live.find((r) => r.state === "invoking")!
        const [firstOrder, secondOrder, payment, refund] = seed.live

        // Our engine stores a run.
        await engine.run(WF.storedThreeSteps, { input: { value: 3 } })
        await expectCountsExact()

        await withClient(DB, async (client) => {
          // One statement inserting into several workflows and states, one row of it already soft-deleted.
          await client.query(
            `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, deleted_at)
             VALUES ('wf_exec_raw_1', $1, 'cart_raw_1', 'raw-run-1', 'done', NULL),
                    ('wf_exec_raw_2', $1, 'cart_raw_2', 'raw-run-2', 'done', NULL),
                    ('wf_exec_raw_3', $2, 'pay_raw_3', 'raw-run-3', 'invoking', NULL),
                    ('wf_exec_raw_4', $2, 'pay_raw_4', 'raw-run-4', 'failed', now())`,
            [MEDUSA_WORKFLOW.order, MEDUSA_WORKFLOW.payment]
          )
          await expectCountsExact()

          // Medusa's engine saves a checkpoint as an upsert on the primary key: the run it left in flight finishes.
          await client.query(
            `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state, updated_at)
             VALUES ($1, $2, $3, $4, 'done', now())
             ON CONFLICT (workflow_id, transaction_id, run_id)
             DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
            [
              shipment.id,
              shipment.workflow_id,
              shipment.transaction_id,
              shipment.run_id,
            ]
          )
          // And a new run through the same upsert, which inserts.
          await client.query(
            `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state)
             VALUES ('wf_exec_raw_5', $1, 'ful_raw_5', 'raw-run-5', 'invoking')
             ON CONFLICT (workflow_id, transaction_id, run_id)
             DO UPDATE SET state = excluded.state`,
            [MEDUSA_WORKFLOW.fulfillment]
          )
          await expectCountsExact()

          // State changes, several rows in one statement; then one that changes nothing counted.
          await client.query(
            `UPDATE workflow_execution SET state = 'reverted' WHERE id IN ($1, 'wf_exec_raw_3')`,
            [payment.id]
          )
          await client.query(
            `UPDATE workflow_execution SET context = '{"touched": true}'::jsonb, updated_at = now()`
          )
          await expectCountsExact()

          // A run moved to another workflow.
          await client.query(
            `UPDATE workflow_execution SET workflow_id = $1 WHERE id = 'wf_exec_raw_2'`,
            [MEDUSA_WORKFLOW.payment]
          )
          await expectCountsExact()

          // Soft deletes: one alone, one changing its state in the same update; a soft-deleted run soft-deleted again.
          await client.query(
            `UPDATE workflow_execution SET deleted_at = now() WHERE id = $1`,
            [firstOrder.id]
          )
          await client.query(
            `UPDATE workflow_execution SET deleted_at = now(), state = 'failed' WHERE id = $1`,
            [refund.id]
          )
          await client.query(
            `UPDATE workflow_execution SET deleted_at = now() WHERE id = $1`,
            [seed.softDeletedFailed.id]
          )
          await expectCountsExact()

          // A soft-deleted run restored, and one restored into another state.
          await client.query(
            `UPDATE workflow_execution SET deleted_at = NULL WHERE id = $1`,
            [seed.softDeletedReverted.id]
          )
          await client.query(
            `UPDATE workflow_execution SET deleted_at = NULL, state = 'done' WHERE id = $1`,
            [refund.id]
          )
          await expectCountsExact()

          // A transaction that rolls back moves no count.
          await client.query(`BEGIN`)
          await client.query(
            `DELETE FROM workflow_execution WHERE workflow_id = $1`,
            [MEDUSA_WORKFLOW.order]
          )
          await client.query(`INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state)
                              VALUES ('wf_exec_rolled_back', 'rolled-back', 'tx', 'run', 'done')`)
          await client.query(`ROLLBACK`)
          await expectCountsExact()

          // One delete of live and soft-deleted runs of several workflows and states.
          await client.query(
            `DELETE FROM workflow_execution WHERE id IN ($1, $2, $3, 'wf_exec_raw_1', 'wf_exec_raw_4')`,
            [secondOrder.id, firstOrder.id, seed.softDeletedFailed.id]
          )
          await expectCountsExact()
        })

        // Sessions of their own (so counters in other slots), at the same time, on the same workflow and state.
        await Promise.all(
          Array.from({ length: 6 }, (_, n) =>
            withClient(DB, async (client) => {
              await client.query(`BEGIN`)
              for (let i = 0; i < 3; i++) {
                await client.query(
                  `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state)
                   VALUES ($1, $2, $3, 'concurrent', 'done')`,
                  [
                    `wf_exec_concurrent_${n}_${i}`,
                    MEDUSA_WORKFLOW.order,
                    `cart_concurrent_${n}_${i}`,
                  ]
                )
              }
              await client.query(
                `DELETE FROM workflow_execution WHERE id = $1`,
                [`wf_exec_concurrent_${n}_0`]
              )
              await client.query(`COMMIT`)
            })
          )
        )
        await expectCountsExact()
        // The order runs left before were all deleted: these are the six sessions' two each.
        expect((await countsNow()).live).toContainEqual({
          workflow_id: MEDUSA_WORKFLOW.order,
          state: "done",
          executions: 12,
        })

        // Our engine's purge deletes the runs Medusa finished long ago, in batches.
        const purge = await engine.purgeExpiredExecutions({ batchSize: 1 })
        expect(purge.deleted).toBeGreaterThan(0)
        await expectCountsExact()

        // A truncate empties the counts with the table; counting starts over from there.
        await withClient(DB, (client) =>
          client.query(`TRUNCATE workflow_execution`)
        )
        expect(await countsNow()).toEqual({ counted: [], live: [] })
        await engine.run(WF.storedThreeSteps, { input: { value: 4 } })
        await withClient(DB, (client) => insertMedusaRows(client, medusaRows()))
        await expectCountsExact()
        const [, total] = await engine.listAndCountWorkflowExecutions({})
        expect(total).toBe(medusaRows().length + 1)
      })

      it("counts again, instead of adding to the counts, when the migration runs a second time", async () => {
        const seed = medusaRowsWithSoftDeleted()
        await prepare(seed.all)
        expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({
          executed: OUR_MIGRATIONS,
          warnings: [],
        })
        const shape = await shapeOf()
        const tables = await tablesNow()

        // Writes after the first run, from several sessions, so the counts sit in several slots.
        await engine.run(WF.storedThreeSteps, { input: { value: 3 } })
        await Promise.all(
          Array.from({ length: 4 }, (_, n) =>
            withClient(DB, (client) =>
              client.query(
                `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, state)
                 VALUES ($1, $2, $3, 'again', 'failed')`,
                [
                  `wf_exec_again_${n}`,
                  MEDUSA_WORKFLOW.payment,
                  `pay_again_${n}`,
                ]
              )
            )
          )
        )
        await withClient(DB, (client) =>
          client.query(
            `UPDATE workflow_execution SET deleted_at = now() WHERE id = $1`,
            [seed.live[0].id]
          )
        )
        await expectCountsExact()
        const { live } = await countsNow()

        for (let run = 0; run < 2; run++) {
          await forgetMigration(DB, OUR_COUNT_MIGRATION)
          expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({
            executed: [OUR_COUNT_MIGRATION],
            warnings: [],
          })
          // The same counts, not twice (or three times) them; recounted, so no counter left at zero.
          expect(await countsNow()).toEqual({ counted: live, live })
          expect(await shapeOf()).toEqual(shape)
          expect(await tablesNow()).toEqual(tables)
          await expectCounters()
        }

        // The triggers, each there once, go on counting.
        await withClient(DB, (client) =>
          client.query(
            `DELETE FROM workflow_execution WHERE workflow_id = $1 AND state = 'failed'`,
            [MEDUSA_WORKFLOW.payment]
          )
        )
        await expectCountsExact()
        expect(
          (await countsNow()).live.some(
            (c) =>
              c.workflow_id === MEDUSA_WORKFLOW.payment && c.state === "failed"
          )
        ).toBe(false)
      })
    })
  }
})
