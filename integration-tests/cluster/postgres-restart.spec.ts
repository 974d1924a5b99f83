import { Client, Pool } from "pg"
import { waitUntil } from "../modules/__fixtures__/engine"
import { ANSWERED_STEP, CLUSTER_WF } from "./__fixtures__/cluster-workflows-ids"
import { RunReply } from "./__fixtures__/instance-commands"
import {
  ask,
  Instance,
  isRunning,
  kill,
  startInstance,
} from "./__fixtures__/instances"
import { migrateDatabase } from "./__fixtures__/migrate-database"
import {
  RESTART_WF,
  RETRY_LATER_SECONDS,
} from "./__fixtures__/restart-workflows-ids"
import { RestartablePostgres } from "./__fixtures__/restartable-postgres"

jest.setTimeout(120000)

const FINISHED = ["done", "failed", "reverted"]
// How long the restarted server stays away: longer than the instances' 2 s lease.
const OUTAGE_MS = 5000
// How late the retry may fire after the restart: armed in process it is under 50 ms late, but after an outage
// longer than the pool's wait it has been seen to fall to the next look at the table (5 s, pollIntervalMs).
// Lost would be never; the bound says it resumed within one poll.
const RETRY_SLACK_MS = 5000 + 2000
// How long a query of an instance waits for a pool connection before it fails, where a test shortens it.
const ACQUIRE_TIMEOUT_MS = 1500

/*
 * Two engine instances, each its own OS process, under load on a Postgres of
 * the test's own; then the database goes away under them and comes back,
 * without any process being restarted. Everything stored must still be there,
 * every background loop must go on, and every run in flight must end.
 */
describe("when Postgres restarts or cuts every connection under load", () => {
  let postgres: RestartablePostgres
  let databases = 0
  let db: Pool
  let url: string
  let instances: Instance[] = []

  beforeAll(async () => {
    postgres = await RestartablePostgres.start()
  })

  afterAll(async () => {
    await postgres?.destroy()
  })

  afterEach(async () => {
    await Promise.all(instances.map(kill))
    instances = []
    await db?.end()
  })

  const query = async <T = any>(
    sql: string,
    params: unknown[] = []
  ): Promise<T[]> => (await db.query(sql, params)).rows
  // The test's own connections are cut too: it takes fresh ones once the database is back.
  const openPool = async () => {
    await db?.end().catch(() => undefined)
    db = new Pool({ connectionString: url, max: 2 })
    db.on("error", () => undefined)
  }

  const stateOf = async (transactionId: string) =>
    (
      await query(
        `SELECT state, execution, context FROM workflow_execution WHERE transaction_id = $1`,
        [transactionId]
      )
    )[0]
  const logOf = async (kind: string, key?: string) =>
    await query<{ key: string; instance: string }>(
      `SELECT key, instance FROM cluster_log WHERE kind = $1 AND ($2::text IS NULL OR key = $2) ORDER BY id`,
      [kind, key ?? null]
    )
  const connectedListeners = async () =>
    Number(
      (
        await query(
          `SELECT count(*) AS n FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'medusa-workflow-engine-listener'`
        )
      )[0].n
    )

  const setUp = async (env: Record<string, string>) => {
    url = await postgres.createDatabase(`restart_${++databases}`)
    await migrateDatabase(url)
    await openPool()
    await query(
      `CREATE TABLE cluster_log (id serial PRIMARY KEY, kind text, key text, instance text, at timestamptz DEFAULT clock_timestamp())`
    )
    instances = await Promise.all(
      ["a", "b"].map((name) =>
        startInstance(name, { DATABASE_URL: url, ...env })
      )
    )
    return instances
  }

  const run = (instance: Instance, workflowId: string, transactionId: string) =>
    ask<RunReply>(instance, { run: { workflowId, transactionId } })

  /**
   * Holds the row lock of each run, as a concurrent save would, so that the
   * next write of these runs is in flight, waiting, when the database goes away.
   */
  const lockRows = async (transactionIds: string[]) => {
    const holder = new Client({ connectionString: url })
    holder.on("error", () => undefined)
    await holder.connect()
    await holder.query("BEGIN")
    await holder.query(
      `SELECT 1 FROM workflow_execution WHERE transaction_id = ANY($1) FOR UPDATE`,
      [transactionIds]
    )
    const pid = (await holder.query("SELECT pg_backend_pid() AS pid")).rows[0]
      .pid as number
    const waiting = async () =>
      Number(
        (
          await query(
            `SELECT count(*) AS n FROM pg_locks l WHERE NOT l.granted AND $1 = ANY(pg_blocking_pids(l.pid))`,
            [pid]
          )
        )[0].n
      )
    return { pid, waiting, end: () => holder.end().catch(() => undefined) }
  }

  /**
   * Puts load on both instances, lets `disrupt` take the database away (and
   * run `whileAway` meanwhile), and checks what the requirement asks of
   * the engine once it is back.
   */
  async function survives(
    disrupt: (whileAway: () => Promise<void>) => Promise<void>,
    env: Record<string, string> = {},
    { cutsListeners = true }: { cutsListeners?: boolean } = {}
  ) {
    const [a, b] = await setUp(env)

    // Finished before: their rows must outlive the disruption.
    const finishedBefore = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        run(n % 2 ? a : b, RESTART_WF.quick, `before-${n}`)
      )
    )
    expect(finishedBefore.map((reply) => reply.state)).toEqual([
      "done",
      "done",
      "done",
      "done",
    ])

    // In flight: a retry due after the restart, async steps answered from the
    // other instance before and after, an async step that times out, and steps
    // the test ends during the disruption and after it.
    void run(a, RESTART_WF.retryLater, "retry-later")
    await ask(a, {
      subscribe: {
        workflowId: CLUSTER_WF.answer,
        transactionId: "answered-after",
      },
    })
    void run(a, CLUSTER_WF.answer, "answered-after")
    void run(b, CLUSTER_WF.answer, "answered-during")
    void run(b, CLUSTER_WF.timeout, "times-out")
    const endsDuring = run(a, RESTART_WF.gated, "ends-during")
    void run(b, RESTART_WF.gatedInBackground, "ends-during-in-background")
    const endsAfter = run(b, RESTART_WF.gated, "ends-after")
    const inFlight = [
      "retry-later",
      "answered-after",
      "answered-during",
      "times-out",
      "ends-during",
      "ends-during-in-background",
      "ends-after",
    ]

    await waitUntil(
      async () => (await logOf("attempt", "retry-later")).length === 1
    )
    await waitUntil(async () => (await logOf("started")).length === 6)
    await waitUntil(
      async () => (await stateOf("answered-after"))?.state === "invoking"
    )
    await waitUntil(
      async () => (await stateOf("answered-during"))?.state === "invoking"
    )
    const storedBefore = await query(
      `SELECT id, transaction_id FROM workflow_execution ORDER BY id`
    )
    expect(storedBefore.map((row) => row.transaction_id).sort()).toEqual(
      [...[1, 2, 3, 4].map((n) => `before-${n}`), ...inFlight].sort()
    )
    const ticksBefore = (await logOf("tick")).length

    // While the database is away: two steps end and an async step is answered.
    let answeredDuring: Promise<unknown> = Promise.resolve()
    await disrupt(async () => {
      await ask(a, { release: "ends-during" })
      await ask(b, { release: "ends-during-in-background" })
      answeredDuring = ask(a, {
        stepSuccess: {
          workflowId: CLUSTER_WF.answer,
          transactionId: "answered-during",
          stepId: ANSWERED_STEP,
        },
      })
    })
    await openPool()
    // The retry was not due before the database came back: its timer has to fire afterwards.
    expect(await logOf("attempt", "retry-later")).toHaveLength(1)
    if (cutsListeners) {
      await waitUntil(() =>
        instances.every((instance) =>
          /LISTEN connection was lost/.test(instance.output())
        )
      )
    }

    // Both LISTEN connections are back, opened again by the instances themselves; an answer
    // given on one instance now reaches the subscriber on the other.
    await waitUntil(async () => (await connectedListeners()) === 2)
    await ask(b, {
      stepSuccess: {
        workflowId: CLUSTER_WF.answer,
        transactionId: "answered-after",
        stepId: ANSWERED_STEP,
      },
    })
    await waitUntil(() => a.heard.length > 0)
    expect(a.heard).toEqual([
      { transactionId: "answered-after", state: "done", errors: [] },
    ])
    await ask(b, { release: "ends-after" })

    // No run stays in flight: each one ends by itself, and no timer is left behind.
    const states = async () =>
      await Promise.all(inFlight.map(async (id) => (await stateOf(id))?.state))
    await waitUntil(async () =>
      (await states()).every((state) => FINISHED.includes(state))
    )
    await waitUntil(
      async () =>
        (await query(`SELECT key FROM workflow_execution_timer`)).length === 0
    )

    // The retry fired after the restart, on time, and its run finished.
    const [{ late_ms }] = await query(
      `SELECT (EXTRACT(EPOCH FROM max(at) - min(at)) - $1) * 1000 AS late_ms FROM cluster_log WHERE kind = 'attempt'`,
      [RETRY_LATER_SECONDS]
    )
    expect(Number(late_ms)).toBeGreaterThanOrEqual(0)
    expect(Number(late_ms)).toBeLessThan(RETRY_SLACK_MS)
    expect(await logOf("attempt", "retry-later")).toHaveLength(2)
    // What ended or was answered while the database was away waited for it, and went through.
    await expect(answeredDuring).resolves.toEqual({})
    await expect(endsDuring).resolves.toEqual({ state: "done", errors: [] })
    await expect(endsAfter).resolves.toEqual({ state: "done", errors: [] })
    expect(
      Object.fromEntries(
        (await states()).map((state, i) => [inFlight[i], state])
      )
    ).toEqual({
      "retry-later": "done",
      "answered-after": "done",
      "answered-during": "done",
      "times-out": expect.stringMatching(/^(failed|reverted)$/),
      "ends-during": "done",
      "ends-during-in-background": "done",
      "ends-after": "done",
    })
    // The async step nobody answered failed by its timeout (due while a restarted server was away), and says so.
    const timedOut = await stateOf("times-out")
    expect(
      timedOut.execution.steps["_root.cluster-never-answered"].invoke.state
    ).toBe("timeout")
    expect(JSON.stringify(timedOut.context.errors)).toMatch(/timeout/i)

    // Nothing stored before is lost.
    const storedAfter = await query(`SELECT id FROM workflow_execution`)
    expect(storedAfter.map((row) => row.id)).toEqual(
      expect.arrayContaining(storedBefore.map((row) => row.id))
    )

    // New work runs on both instances, and the per-second schedule ticks again.
    const after = await Promise.all([
      run(a, RESTART_WF.quick, "after-a"),
      run(b, RESTART_WF.quick, "after-b"),
    ])
    expect(after).toEqual([
      { state: "done", errors: [] },
      { state: "done", errors: [] },
    ])
    await waitUntil(async () => (await logOf("tick")).length >= ticksBefore + 3)

    expect(
      instances
        .filter((instance) => !isRunning(instance))
        .map((instance) => instance.name)
    ).toEqual([])
  }

  const restart = async (whileAway: () => Promise<void>) => {
    await postgres.stop()
    await whileAway()
    // Longer than the instances' leases, and the async step's timeout falls due meanwhile.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS))
    await postgres.resume()
  }

  it("goes on after the server restarts (same data folder and port), without restarting any instance", async () => {
    // Each query waits for the server, up to knex's 60 s wait for a pool connection.
    await survives(restart)
  })

  it("goes on after a restart that outlasts the pool's wait for a connection", async () => {
    // Every query sent during the outage fails: the engine has to wait for the server itself.
    await survives(restart, { ACQUIRE_TIMEOUT_MS: String(ACQUIRE_TIMEOUT_MS) })
  })

  it("goes on after the database refuses writes for a while (read-only, 25006, as during a failover)", async () => {
    const setReadOnly = async (readOnly: boolean) => {
      const admin = new Client({ connectionString: postgres.url() })
      await admin.connect()
      try {
        // Every session of the server, the instances' pooled ones included, starts its next transaction read-only.
        await admin.query(
          readOnly
            ? `ALTER SYSTEM SET default_transaction_read_only = on`
            : `ALTER SYSTEM RESET default_transaction_read_only`
        )
        await admin.query(`SELECT pg_reload_conf()`)
      } finally {
        await admin.end()
      }
    }
    await survives(
      async (whileAway) => {
        await setReadOnly(true)
        try {
          await waitUntil(
            async () =>
              (await query(`SHOW default_transaction_read_only`))[0]
                .default_transaction_read_only === "on"
          )
          await whileAway()
          await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS))
        } finally {
          await setReadOnly(false)
        }
      },
      {},
      { cutsListeners: false }
    )
  })

  it("goes on after every connection to the database is cut (pg_terminate_backend)", async () => {
    await survives(async (whileAway) => {
      // The writes of `whileAway` wait on row locks, so that they are in flight when their connections are cut.
      const locks = await lockRows([
        "ends-during",
        "ends-during-in-background",
        "answered-during",
      ])
      await whileAway()
      await waitUntil(async () => (await locks.waiting()) === 3)
      // The lock holder last, so that the writes waiting on it are cut before they can go through.
      await query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> $1`,
        [locks.pid]
      )
      await locks.end()
    })
  })
})
