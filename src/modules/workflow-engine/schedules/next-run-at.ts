import { SchedulerOptions } from "@medusajs/framework/orchestration"
import { MedusaError } from "@medusajs/framework/utils"
import { parseExpression } from "cron-parser"

/**
 * When the next tick of a schedule is due, strictly after `after`. Cron takes
 * Medusa's forms: five fields, or six with seconds first.
 */
export function nextRunAt(options: SchedulerOptions, after: Date): Date {
  if ("interval" in options && options.interval !== undefined) {
    return new Date(after.getTime() + options.interval)
  }
  if ("cron" in options && options.cron) {
    return parseExpression(options.cron, { currentDate: after }).next().toDate()
  }
  throw new MedusaError(
    MedusaError.Types.INVALID_ARGUMENT,
    "Schedule cron or interval definition is required for scheduled jobs."
  )
}
