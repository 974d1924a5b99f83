import { knex } from "@medusajs/framework/mikro-orm/knex"
import { untilReachable } from "../../src/modules/workflow-engine/storage/connection-loss"
import { FaultyProxy } from "../cluster/__fixtures__/faulty-proxy"
import { recordingLogger, waitUntil } from "./__fixtures__/engine"

/*
 * What the engine takes for Postgres being out of reach, to wait for it
 * rather than fail the run, as the real driver reports it.
 */

jest.setTimeout(60000)

describe("connection loss", () => {
  let proxy: FaultyProxy
  beforeEach(async () => {
    proxy = await FaultyProxy.start()
  })
  afterEach(async () => {
    await proxy.close()
  })

  it("waits through connects that time out (a store's connectionTimeoutMillis), and goes on once Postgres answers", async () => {
    // As a store sets it in databaseDriverOptions: pg's own connect timeout.
    const db = knex({
      client: "pg",
      connection: {
        connectionString: proxy.url("postgres"),
        connectionTimeoutMillis: 200,
      },
      pool: { min: 0, max: 1 },
    })
    const logger = recordingLogger()
    try {
      proxy.stallNewConnections()
      const answered = untilReachable(logger, "reading a run", () =>
        db.raw(`SELECT 1 AS "one"`)
      )
      await waitUntil(() => logger.warnings.length > 0, 30000, {
        what: "the timed-out connect taken for Postgres out of reach",
      })
      expect(logger.warnings[0]).toContain("timeout expired")
      proxy.resumeNewConnections()
      expect((await answered).rows).toEqual([{ one: 1 }])
    } finally {
      await db.destroy()
    }
  })
})
