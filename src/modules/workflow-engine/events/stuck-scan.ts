import { Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { markStuckRuns } from "./sql/mark-stuck-runs"

const BATCH = 500

/**
 * Reports runs in flight that stopped moving while their instance lives
 * (see sql/mark-stuck-runs.ts): marks them `stuck_at` and records one
 * `workflow_execution.stuck` event per stall. Run once per cluster per tick
 * by its schedule (loaders/engine.ts); `scanNow` runs it at once.
 */
export class StuckScan {
  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    /** The module option `stuckAfterSeconds`; 0: never scans. */
    private readonly stuckAfterSeconds: number
  ) {}

  /** Marks every run stuck now; returns how many were newly reported. */
  async scanNow(): Promise<number> {
    if (this.stuckAfterSeconds === 0) {
      return 0
    }
    let marked = 0
    for (;;) {
      const batch = await markStuckRuns(this.db, this.stuckAfterSeconds, BATCH)
      marked += batch
      if (batch < BATCH) {
        break
      }
    }
    if (marked) {
      this.logger.warn(
        `Workflow engine: ${marked} run${marked === 1 ? "" : "s"} in flight ha${marked === 1 ? "s" : "ve"} not moved for ` +
          `${this.stuckAfterSeconds} s while ${marked === 1 ? "its instance lives" : "their instances live"} ` +
          `(reported as workflow_execution.stuck; listed with the filter stuck: true).`
      )
    }
    return marked
  }
}
