/**
 * One purging instance, as a separate OS process: connects to DATABASE_URL,
 * waits at the gate (advisory lock GATE, held by the test until every process
 * waits there) so that several of them start together, runs one purge pass
 * with BATCH_SIZE and prints its result as JSON.
 */
import { knex } from "@medusajs/framework/mikro-orm/knex"
import { resolveOptions } from "../../../src/modules/workflow-engine/options"
import { ExecutionRetention } from "../../../src/modules/workflow-engine/retention/execution-retention"

async function main() {
  // One connection: the gate's session lock is taken and released on it.
  const db = knex({
    client: "pg",
    connection: process.env.DATABASE_URL,
    pool: { min: 1, max: 1 },
  })
  const batchSize = Number(process.env.BATCH_SIZE)
  const retention = new ExecutionRetention(
    db,
    console as any,
    resolveOptions({ purgeBatchSize: batchSize })
  )
  await db.raw("SELECT pg_advisory_lock_shared(?)", [Number(process.env.GATE)])
  await db.raw("SELECT pg_advisory_unlock_shared(?)", [
    Number(process.env.GATE),
  ])
  const result = await retention.purgeExpired(
    { actor: process.env.ACTOR },
    "manual"
  )
  process.stdout.write(JSON.stringify(result))
  await db.destroy()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
