/**
 * One purging instance, as a separate OS process: connects to DATABASE_URL,
 * waits until START_AT (ms since epoch) so that several of them overlap, runs
 * one purge pass with BATCH_SIZE and prints its result as JSON.
 */
import { knex } from "@medusajs/framework/mikro-orm/knex"
import { resolveOptions } from "../../../src/modules/workflow-engine/options"
import { ExecutionRetention } from "../../../src/modules/workflow-engine/retention/execution-retention"

async function main() {
  const db = knex({ client: "pg", connection: process.env.DATABASE_URL, pool: { min: 1, max: 2 } })
  const batchSize = Number(process.env.BATCH_SIZE)
  const retention = new ExecutionRetention(db, console as any, resolveOptions({ purgeBatchSize: batchSize }))
  await db.raw("select 1")
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(process.env.START_AT) - Date.now())))
  const result = await retention.purgeExpired({ actor: process.env.ACTOR }, "manual")
  process.stdout.write(JSON.stringify(result))
  await db.destroy()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
