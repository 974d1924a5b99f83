import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { CLUSTER_LOG_TABLE } from "./cluster-log"
import { Instance, kill, startInstance } from "./instances"

/**
 * The hooks of a suite whose engine instances are processes of its own: the
 * runner's engine is stopped before each test (only the processes run timers,
 * schedules and recovery), the cluster log is made, and every process the
 * test started is killed after it. Returns how a test starts one (from
 * `script`, engine-instance.ts unless told; see startInstance).
 */
export function instanceProcesses(
  engine: object,
  db: () => Knex,
  clientUrl: () => string
): (
  name: string,
  env?: Record<string, string>,
  script?: string
) => Promise<Instance> {
  let instances: Instance[] = []

  beforeEach(async () => {
    await (
      engine as { __hooks: { onApplicationShutdown: () => Promise<void> } }
    ).__hooks.onApplicationShutdown()
    await db().raw(CLUSTER_LOG_TABLE)
  })

  afterEach(async () => {
    await Promise.all(instances.map(kill))
    instances = []
  })

  return async (name, env = {}, script) => {
    const instance = await startInstance(
      name,
      { DATABASE_URL: clientUrl(), ...env },
      script
    )
    instances.push(instance)
    return instance
  }
}
