import { Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import path from "path"
import { QueuedTask, queuedTasks } from "./sql/queued-tasks"
import { indexTask } from "./upgrade-tasks"

/**
 * What the online upgrade has still to do, as the parts that read around it
 * (purge, storage report) ask. Done is for good: nothing queues more work
 * until the next `medusa db:migrate`, which a restart follows, so once none
 * is left it is not read again.
 */
export class PendingUpgrade {
  private done_ = false

  constructor(private readonly db: Knex) {}

  async tasks(): Promise<QueuedTask[]> {
    if (this.done_) {
      return []
    }
    const tasks = await queuedTasks(this.db)
    this.done_ = tasks.length === 0
    return tasks
  }

  /** Whether any of `names` is still to do. */
  async anyOf(names: string[]): Promise<boolean> {
    return (await this.tasks()).some((task) => names.includes(task.name))
  }
}

/** The script a store runs with `medusa exec` to finish the upgrade (src/scripts/), next to this file in the build. */
export const FINISH_UPGRADE_SCRIPT = path.join(
  __dirname,
  `../../../scripts/finish-workflow-engine-upgrade${path.extname(__filename)}`
)

/**
 * Says, at the start of a process that runs no background work (a `server`
 * instance, `medusa exec`), what the migrations left that it will not do,
 * and how to finish it. Nothing when nothing is left.
 */
export async function warnOfPendingUpgrade(
  db: Knex,
  logger: Pick<Logger, "warn">
): Promise<void> {
  const tasks = await queuedTasks(db)
  if (!tasks.length) {
    return
  }
  logger.warn(
    `Workflow engine upgrade pending since ${new Date(tasks[0].queued_at).toISOString()}: ${describeTasks(tasks)}, ` +
      'left by `medusa db:migrate` to the module. This process runs no background work (workerMode "server", or ' +
      "`medusa exec`), so it does not do them; until they are done, purges and the storage report read the whole " +
      "table, as Medusa's engine does, lists count their rows, and the resource_id filter does not find the runs stored " +
      "before the upgrade. A worker or shared instance finishes them when it " +
      "starts (behind a transaction pooler, once directDatabaseUrl is set), or run: " +
      `npx medusa exec ${path.relative(process.cwd(), FINISH_UPGRADE_SCRIPT)}`
  )
}

/** The tasks in words: "2 back-fills (count, expires_at) and 7 index builds". */
export function describeTasks(tasks: QueuedTask[]): string {
  const builds = tasks.filter((task) => task.name.startsWith(indexTask("")))
  const others = tasks.filter((task) => !builds.includes(task))
  const plural = (count: number, what: string) =>
    `${count} ${what}${count === 1 ? "" : "s"}`
  return [
    others.length
      ? `${plural(others.length, "back-fill")} (${others.map((task) => task.name.replace(/^[^:]*:/, "")).join(", ")})`
      : "",
    builds.length ? plural(builds.length, "index build") : "",
  ]
    .filter(Boolean)
    .join(" and ")
}
