import { ExecArgs } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import type { WorkflowsModuleService } from "../../../../../src/modules/workflow-engine/services/workflows-module"

/** The line this script prints its result on, after the marker: one JSON object. */
export const PURGE_RESULT_MARKER = "PURGE_RESULT "

/**
 * `medusa exec ./src/scripts/purge-expired.ts` in the test app: what an
 * operator's script does on a store that just switched engines. Reads the
 * storage report, previews the purge, purges (`PURGE_BATCH_SIZE` rows per
 * batch at most, when set), reads the report again, and prints all four.
 * With `PURGE_ONLY=1`, only purges: the bench times that alone.
 */
export default async function purgeExpired({
  container,
}: ExecArgs): Promise<void> {
  const engine = container.resolve<WorkflowsModuleService>(
    Modules.WORKFLOW_ENGINE
  )
  const batchSize = process.env.PURGE_BATCH_SIZE
    ? Number(process.env.PURGE_BATCH_SIZE)
    : undefined
  if (process.env.PURGE_ONLY) {
    const purge = await engine.purgeExpiredExecutions({
      batchSize,
      actor: "purge-expired script",
    })
    process.stdout.write(`${PURGE_RESULT_MARKER}${JSON.stringify({ purge })}\n`)
    return
  }
  const before = await engine.retrieveExecutionStorage()
  const preview = await engine.purgeExpiredExecutions({
    dryRun: true,
    actor: "purge-expired script",
  })
  const purge = await engine.purgeExpiredExecutions({
    batchSize,
    actor: "purge-expired script",
  })
  const after = await engine.retrieveExecutionStorage()
  process.stdout.write(
    `${PURGE_RESULT_MARKER}${JSON.stringify({ before, preview, purge, after })}\n`
  )
}
