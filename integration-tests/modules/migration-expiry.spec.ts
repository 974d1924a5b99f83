import { WF } from "./__fixtures__/workflows"
import {
  forgetMigration,
  migrate,
  MIGRATION_DIRS,
  OUR_MIGRATIONS,
  OUR_RETENTION_MIGRATION,
  withClient,
} from "./__fixtures__/migrations/database"
import {
  DB,
  expectCountsExact,
  expectRetentionTables,
  expiryOf,
  instant,
  migrationNames,
  queuedTasks,
  rowsNow,
  shapeOf,
  withoutExpiry,
} from "./__fixtures__/migrations/expectations"
import {
  insertMedusaRows,
  MedusaRow,
  medusaRows,
  medusaRowsAroundExpiry,
  medusaRowsDuringDeploy,
} from "./__fixtures__/migrations/medusa-rows"
import {
  migrationSuite,
  prepareMedusaTable,
} from "./__fixtures__/migrations/migration-suite"

/*
 * The expiry our migrations give the runs Medusa's own engines finished (see
 * migration-suite), and what a purge deletes by it, before and after the
 * online upgrade, and during a rolling deploy.
 */

jest.setTimeout(60000)

migrationSuite(({ engine }) => {
  for (const kind of ["inmemory", "redis"] as const) {
    describe(`on the table of @medusajs/workflow-engine-${kind} (all of its migrations)`, () => {
      const prepare = (rows?: MedusaRow[]) => prepareMedusaTable(kind, rows)

      it("gives the runs Medusa's engine finished their expiry; a purge then deletes exactly the expired ones", async () => {
        const medusa = await migrate(DB, MIGRATION_DIRS[kind])
        expect(medusa.executed).toEqual(migrationNames(MIGRATION_DIRS[kind]))
        const rows = medusaRowsAroundExpiry()
        await withClient(DB, (client) => insertMedusaRows(client, rows.all))
        const written = await rowsNow()
        expect(written).toHaveLength(rows.all.length)

        expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({
          executed: OUR_MIGRATIONS,
          warnings: [],
        })

        const migrated = await rowsNow()
        expect(withoutExpiry(migrated)).toEqual(written)
        const retainedUntil = (row: MedusaRow) =>
          Date.parse(row.updated_at) + row.retention_time! * 1000
        expect(
          Object.fromEntries(migrated.map((r) => [r.id, expiryOf(r)]))
        ).toEqual({
          [rows.expiredDone.id]: retainedUntil(rows.expiredDone),
          [rows.expiredFailed.id]: retainedUntil(rows.expiredFailed),
          [rows.expiredReverted.id]: retainedUntil(rows.expiredReverted),
          [rows.recentDone.id]: retainedUntil(rows.recentDone),
          [rows.doneWithoutRetention.id]: null,
          // In flight for a month with a retention of an hour: it expires once it finishes, not before.
          [rows.longInFlight.id]: null,
        })

        const expired = [
          rows.expiredDone,
          rows.expiredFailed,
          rows.expiredReverted,
        ]
        const kept = [
          rows.recentDone,
          rows.doneWithoutRetention,
          rows.longInFlight,
        ]

        const preview = await engine.purgeExpiredExecutions({
          dryRun: true,
          actor: "migration-compat",
        })
        expect(preview).toEqual(
          expect.objectContaining({
            dry_run: true,
            deleted: 0,
            would_delete: expired.length,
            batches: 0,
          })
        )
        expect(await rowsNow()).toEqual(migrated)

        // Batches of two: a full one, then a short one that ends the pass.
        const purge = await engine.purgeExpiredExecutions({
          batchSize: 2,
          actor: "migration-compat",
        })
        expect(purge).toEqual({
          id: expect.stringMatching(/^wf_purge_/),
          dry_run: false,
          deleted: preview.would_delete,
          batches: 2,
          duration_ms: expect.any(Number),
          longest_batch_ms: expect.any(Number),
          // The oldest run kept, as the module reads its created_at.
          oldest_remaining: (
            await engine.retrieveWorkflowExecution(rows.doneWithoutRetention.id)
          ).created_at,
          skipped_kept: 0,
        })
        const keptIds = new Set(kept.map((r) => r.id))
        expect(await rowsNow()).toEqual(
          migrated.filter((r) => keptIds.has(r.id))
        )
        for (const row of expired) {
          await expect(
            engine.retrieveWorkflowExecution(row.id)
          ).rejects.toThrow(/was not found/)
        }

        const trail = await engine.listWorkflowExecutionPurges()
        expect(trail).toHaveLength(2)
        const entry = (id: string) => trail.find((e) => e.id === id)
        expect(entry(preview.id)).toEqual(
          expect.objectContaining({
            trigger: "manual",
            actor: "migration-compat",
            dry_run: true,
            // On a dry run the audit trail's `deleted` is what would have been deleted.
            deleted: expired.length,
            batches: 0,
            transaction_ids: null,
            error: null,
          })
        )
        expect(entry(purge.id)).toEqual(
          expect.objectContaining({
            trigger: "manual",
            actor: "migration-compat",
            dry_run: false,
            deleted: expired.length,
            batches: 2,
            transaction_ids: null,
            error: null,
          })
        )

        // Nothing expired is left.
        expect(await engine.purgeExpiredExecutions({ dryRun: true })).toEqual(
          expect.objectContaining({ would_delete: 0 })
        )
      })

      it("before the online upgrade, deletes exactly what a purge deletes after it, fills in no expiry, shares the work between two purges at once, and reports the upgrade pending", async () => {
        const rows = medusaRowsAroundExpiry()
        await prepare(rows.all)
        expect(
          await migrate(DB, MIGRATION_DIRS.ours, {
            online: false,
            inlineMaxRows: 0,
          })
        ).toEqual({ executed: OUR_MIGRATIONS, warnings: [] })
        const queued = await queuedTasks()

        // Since the switch: a run this engine finished (its own expiry), an expiry set by hand far
        // ahead of Medusa's rule (a legal hold), and one set by hand already past while Medusa's rule is not.
        const { transaction } = await engine.run(WF.storedThreeSteps, {
          input: { value: 3 },
        })
        await withClient(DB, async (client) => {
          await client.query(
            `UPDATE workflow_execution SET expires_at = '2099-01-01T00:00:00Z' WHERE id = $1`,
            [rows.expiredFailed.id]
          )
          await client.query(
            `UPDATE workflow_execution SET expires_at = now() - interval '1 minute' WHERE id = $1`,
            [rows.recentDone.id]
          )
        })
        const expired = [
          rows.expiredDone,
          rows.expiredReverted,
          rows.recentDone,
        ]
        const withExpiry = async () =>
          (await rowsNow())
            .filter((r) => r.expires_at !== null)
            .map((r) => r.id)
            .sort()
        const expiriesBefore = await withExpiry()
        expect(expiriesBefore).toHaveLength(3)

        const storage = await engine.retrieveExecutionStorage()
        expect(storage.upgrade).toEqual({
          tasks: queued,
          queued_at: expect.any(Date),
        })
        expect(storage.expired).toEqual({
          executions: expired.length,
          capped: false,
        })
        expect(storage.total_executions).toBe(rows.all.length + 1)
        expect(
          (await engine.purgeExpiredExecutions({ dryRun: true })).would_delete
        ).toBe(expired.length)
        // The execution panel tells when an old row goes by the same rule.
        expect(
          await engine.retrieveExecutionRetention(rows.expiredDone.id)
        ).toEqual(
          expect.objectContaining({
            expires_at: new Date(
              Date.parse(rows.expiredDone.updated_at) + 3600 * 1000
            ),
            expired: true,
          })
        )
        expect(
          await engine.retrieveExecutionRetention(rows.longInFlight.id)
        ).toEqual(expect.objectContaining({ expires_at: null, expired: false }))

        // maxRows stops a pass; then one row a batch, two passes at once: each row goes once, whichever pass locked it.
        expect(
          (await engine.purgeExpiredExecutions({ maxRows: 1 })).deleted
        ).toBe(1)
        const passes = await Promise.all([
          engine.purgeExpiredExecutions({ batchSize: 1 }),
          engine.purgeExpiredExecutions({ batchSize: 1 }),
        ])
        expect(passes[0].deleted + passes[1].deleted).toBe(expired.length - 1)
        const gone = new Set(expired.map((r) => r.id))
        expect((await rowsNow()).map((r) => r.id).sort()).toEqual(
          [
            ...rows.all.filter((r) => !gone.has(r.id)).map((r) => r.id),
            (
              await engine.listWorkflowExecutions({
                transaction_id: transaction.transactionId,
              })
            )[0].id,
          ].sort()
        )
        // Nothing filled in, nothing of the upgrade done.
        expect(await withExpiry()).toEqual(
          expiriesBefore.filter((id) => !gone.has(id))
        )
        expect(await queuedTasks()).toEqual(queued)

        // Once the upgrade is done, its purge finds nothing more: the same rows were the expired ones.
        await engine.finishUpgrade()
        expect((await engine.retrieveExecutionStorage()).upgrade).toBeNull()
        expect((await engine.purgeExpiredExecutions({})).deleted).toBe(0)
      })
    })
  }

  describe("during a rolling deploy", () => {
    it("run again after instances still on Medusa's engine wrote finished runs, fills only the missing expiries", async () => {
      await migrate(DB, MIGRATION_DIRS.inmemory)
      const original = medusaRows()
      await withClient(DB, (client) => insertMedusaRows(client, original))
      expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({
        executed: OUR_MIGRATIONS,
        warnings: [],
      })

      // A run our engine finished, with the expiry it set itself.
      await engine.run(WF.storedThreeSteps, { input: { value: 3 } })
      // An expiry set otherwise than updated_at + retention_time (extended by hand, say, for a legal hold).
      const refund = original.find(
        (r) => r.transaction_id === "pay_01KAWREFUND"
      )!
      await withClient(DB, (client) =>
        client.query(
          `UPDATE workflow_execution SET expires_at = '2099-01-01T00:00:00Z' WHERE id = $1`,
          [refund.id]
        )
      )

      // Meanwhile instances still on Medusa's engine write new runs, and the
      // run Medusa left waiting finishes on one of them: Medusa's engine
      // upserts its row without knowing expires_at.
      const later = medusaRowsDuringDeploy()
      const shipment = original.find((r) => r.state === "invoking")!
      await withClient(DB, async (client) => {
        await insertMedusaRows(client, later.all)
        await client.query(
          `UPDATE workflow_execution
              SET state = 'done', retention_time = 3600, updated_at = now(),
                  execution = jsonb_set(execution, '{state}', '"done"')
            WHERE id = $1`,
          [shipment.id]
        )
      })

      // Counted as they are written, by whichever engine writes them.
      await expectCountsExact()

      const before = await rowsNow()
      const shape = await shapeOf()
      const missing = before.filter((r) => r.expires_at === null)
      expect(missing.map((r) => r.id).sort()).toEqual(
        [
          shipment.id,
          later.finishedDone.id,
          later.finishedFailed.id,
          later.inFlight.id,
        ].sort()
      )
      // Medusa's four finished runs (filled by the first pass) and our engine's run.
      const set = before.filter((r) => r.expires_at !== null)
      expect(set).toHaveLength(5)
      expect(expiryOf(set.find((r) => r.id === refund.id)!)).toBe(
        Date.parse("2099-01-01T00:00:00Z")
      )

      await forgetMigration(DB, OUR_RETENTION_MIGRATION)
      expect(await migrate(DB, MIGRATION_DIRS.ours)).toEqual({
        executed: [OUR_RETENTION_MIGRATION],
        warnings: [],
      })

      const after = await rowsNow()
      expect(withoutExpiry(after)).toEqual(withoutExpiry(before))
      // The expiries already set are left as they were.
      const setIds = new Set(set.map((r) => r.id))
      expect(after.filter((r) => setIds.has(r.id))).toEqual(set)
      // The missing ones are filled as Medusa's engine would expire them; the run in flight stays without.
      const shipmentAfter = after.find((r) => r.id === shipment.id)!
      expect(
        Object.fromEntries(
          after.filter((r) => !setIds.has(r.id)).map((r) => [r.id, expiryOf(r)])
        )
      ).toEqual({
        [shipment.id]: instant(shipmentAfter.updated_at) + 3600 * 1000,
        [later.finishedDone.id]:
          Date.parse(later.finishedDone.updated_at) + 3600 * 1000,
        [later.finishedFailed.id]:
          Date.parse(later.finishedFailed.updated_at) + 86400 * 1000,
        [later.inFlight.id]: null,
      })
      expect(await shapeOf()).toEqual(shape)
      await expectRetentionTables()
      await expectCountsExact()
    })
  })
})
