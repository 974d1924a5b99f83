import { moduleIntegrationTestRunner } from "../modules/__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  waitUntil,
} from "../modules/__fixtures__/engine"
import { CLUSTER_LOG_TABLE, readLog } from "./__fixtures__/cluster-log"
import { ANSWERED_STEP, CLUSTER_WF } from "./__fixtures__/cluster-workflows-ids"
import {
  Instance,
  isRunning,
  kill,
  startInstance,
} from "./__fixtures__/instances"
import { PgBouncer, pgbouncerMissing } from "./__fixtures__/pgbouncer"

jest.setTimeout(240000)

const FINISHED = ["done", "failed", "reverted"]
// The instances poll this often when they cannot listen: the tests wait on what polling finds.
const POLL_MS = "500"
const POLLING_WARNING = "did not come back to its LISTEN"
const PREPARED_WARNING = "refused a named prepared statement"

const missing = pgbouncerMissing()
if (missing) {
  console.warn(`[integration-tests] skipping the PgBouncer tests: ${missing}`)
}
const describeWithPgBouncer = missing ? describe.skip : describe

/*
 * Engine instances, each its own OS process, whose DATABASE_URL is a
 * PgBouncer in transaction mode that the test starts (as on Supabase's or
 * Neon's pooled URL); the migrations ran over the direct URL, as the README
 * says to. Once with directDatabaseUrl (the instances LISTEN there) and once
 * without (they find out, say so, and poll). The runner's own engine is
 * stopped at once: only the instance processes work here.
 */
moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: ({ service: engine, medusaApp, dbConfig }) => {
    describeWithPgBouncer("behind PgBouncer in transaction mode", () => {
      let bouncer: PgBouncer
      let instances: Instance[] = []
      const db = () => knexOf(medusaApp)

      const start = async (
        name: string,
        direct: boolean,
        env: Record<string, string> = {}
      ) => {
        const instance = await startInstance(name, {
          DATABASE_URL: bouncer.url(TEST_DATABASE),
          POLL_MS,
          ...(direct ? { DIRECT_DATABASE_URL: dbConfig.clientUrl } : {}),
          ...env,
        })
        instances.push(instance)
        return instance
      }
      const logOf = (kind: string) => readLog(db(), kind)
      const statesOf = async (prefix: string) =>
        (
          await db().raw(
            `SELECT transaction_id, state FROM workflow_execution WHERE transaction_id LIKE ? ORDER BY 1`,
            [`${prefix}%`]
          )
        ).rows as { transaction_id: string; state: string }[]
      const occurrences = (text: string, part: string) =>
        text.split(part).length - 1

      beforeAll(async () => {
        bouncer = await PgBouncer.start()
      })

      afterAll(async () => {
        await bouncer?.destroy()
      })

      beforeEach(async () => {
        await (engine as any).__hooks.onApplicationShutdown()
        await db().raw(CLUSTER_LOG_TABLE)
      })

      afterEach(async () => {
        await Promise.all(instances.map(kill))
        instances = []
      })

      describe.each([
        { mode: "with directDatabaseUrl", direct: true },
        { mode: "without directDatabaseUrl", direct: false },
      ])("$mode", ({ mode, direct }) => {
        const key = direct ? "direct" : "pooled"

        it("ticks once per second across 3 instances, retries after a SIGKILL elsewhere, tells subscribers of other instances, and stores every run", async () => {
          const heard = `heard-${key}`
          const retried = `retried-${key}`
          const [a, b, c] = await Promise.all([
            start("a", direct, {
              START_RUN: `${CLUSTER_WF.answer}:${heard}`,
              SUBSCRIBE: `${CLUSTER_WF.answer}:${heard}`,
            }),
            start("b", direct, { START_RUN: `${CLUSTER_WF.retry}:${retried}` }),
            start("c", direct),
          ])

          // How each instance hears of changes: said once at start.
          for (const instance of [a, b, c]) {
            expect(occurrences(instance.output(), POLLING_WARNING)).toBe(
              direct ? 0 : 1
            )
          }
          if (!direct) {
            expect(a.output()).toContain(
              "Set the module option directDatabaseUrl"
            )
          }

          // A retry due after its instance died fires on another one.
          await waitUntil(
            async () => (await logOf("attempt")).length === 1,
            30000
          )
          await kill(b)
          await waitUntil(
            async () => (await statesOf(retried))[0]?.state === "done",
            60000
          )
          const attempts = await logOf("attempt")
          expect(attempts.map((attempt) => attempt.key)).toEqual([
            retried,
            retried,
          ])
          expect(["a", "c"]).toContain(attempts[1].instance)

          // An answer given on one instance finishes the run its subscriber on another waits for.
          await start("d", direct, {
            STEP_SUCCESS: `${CLUSTER_WF.answer}:${heard}:${ANSWERED_STEP}`,
          })
          await waitUntil(
            async () => (await logOf("heard")).length === 1,
            30000
          )
          expect(await logOf("heard")).toEqual([
            { key: `${heard}:done`, instance: "a" },
          ])

          // 50 runs at once through the pooler: each is stored and ends, none refused as already started.
          await start("e", direct, {
            START_RUNS: `${CLUSTER_WF.background}:bg-${key}:25,${CLUSTER_WF.sync}:sync-${key}:25`,
          })
          await waitUntil(async () => {
            const rows = [
              ...(await statesOf(`bg-${key}`)),
              ...(await statesOf(`sync-${key}`)),
            ]
            return (
              rows.length === 50 && rows.every((row) => row.state === "done")
            )
          }, 60000)

          // Every second ticked once, on whichever instance claimed it.
          await waitUntil(async () => (await logOf("tick")).length >= 5, 30000)
          const perTick = new Map<string, number>()
          for (const { key: tick } of await logOf("tick")) {
            perTick.set(tick, (perTick.get(tick) ?? 0) + 1)
          }
          expect(
            [...perTick.entries()].filter(([, count]) => count !== 1)
          ).toEqual([])

          for (const instance of instances) {
            expect(instance.output()).not.toContain(
              "Transaction already started"
            )
            // PgBouncer 1.18 keeps no prepared statement across transactions: at most one warning, and no run lost to it.
            expect(
              occurrences(instance.output(), PREPARED_WARNING)
            ).toBeLessThanOrEqual(1)
          }
        })
      })

      it("turns named prepared statements off at the pooler's first refusal, with one warning, and loses no run", async () => {
        const instance = await start("prepared", true, {
          START_RUNS: `${CLUSTER_WF.background}:prepared:40`,
        })
        await waitUntil(async () => {
          const rows = await statesOf("prepared-")
          return rows.length === 40 && rows.every((row) => row.state === "done")
        }, 60000)
        expect(occurrences(instance.output(), PREPARED_WARNING)).toBe(1)
      })

      it("goes on when PgBouncer restarts under load: no process exits, every run in flight ends", async () => {
        const [a, b] = await Promise.all([start("a", false), start("b", false)])
        await start("loader", false, {
          START_RUNS: `${CLUSTER_WF.background}:restart-bg:20,${CLUSTER_WF.retry}:restart-retry:5`,
        })
        await waitUntil(async () => (await logOf("started")).length >= 5, 30000)

        await bouncer.stop()
        await bouncer.resume()

        await waitUntil(async () => {
          const rows = [
            ...(await statesOf("restart-bg")),
            ...(await statesOf("restart-retry")),
          ]
          return (
            rows.length === 25 &&
            rows.every((row) => FINISHED.includes(row.state))
          )
        }, 90000)
        // A run fails only where its own step's query (the fixture's log) was cut by the restart, as any step's would be.
        // When a retry run's first attempt was cut, the log holds only its retry (seconds after the run began), which
        // finds no attempt before it and fails as the fixture's first attempt does, with the fixture's own error.
        const notDone = (
          await db().raw(
            `SELECT transaction_id, context -> 'errors' AS errors,
                    (SELECT count(*) = 1 AND min(log.at) > e.created_at + interval '1 second'
                       FROM cluster_log log WHERE log.kind = 'attempt' AND log.key = e.transaction_id) AS only_retry_logged
               FROM workflow_execution e
              WHERE (transaction_id LIKE 'restart-bg%' OR transaction_id LIKE 'restart-retry%') AND state <> 'done'`
          )
        ).rows as {
          transaction_id: string
          errors: { action: string; error: { message: string } }[]
          only_retry_logged: boolean
        }[]
        const cut =
          /Connection terminated|server conn crashed|terminating connection|ECONNRESET|ECONNREFUSED/i
        const retriedAfterCut = new RegExp(
          `^first attempt fails$|${cut.source}`,
          "i"
        )
        for (const run of notDone) {
          expect(run.errors.map((error) => error.error.message)).toEqual([
            expect.stringMatching(
              run.only_retry_logged ? retriedAfterCut : cut
            ),
          ])
        }
        expect(
          instances
            .filter((instance) => !isRunning(instance))
            .map((instance) => instance.name)
        ).toEqual([])

        // And a run started after the restart is stored and ends as any other.
        await start("after", false, {
          START_RUN: `${CLUSTER_WF.retry}:after-restart`,
        })
        await waitUntil(
          async () => (await statesOf("after-restart"))[0]?.state === "done",
          30000
        )
        expect([a, b].every(isRunning)).toBe(true)
      })
    })
  },
})
