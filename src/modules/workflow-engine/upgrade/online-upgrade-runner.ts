import { Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import type { ClientConfig } from "pg"
import { OnlineUpgradeResult, runOnlineUpgrade } from "./online-upgrade"
import { warnOfPendingUpgrade } from "./pending-upgrade"
import { anyTaskQueued } from "./sql/any-task-queued"

const UNDEFINED_TABLE = "42P01"

/**
 * Runs the online upgrade in the background once the instance starts (one
 * instance of the cluster gets it, the others return at once), and stops it
 * on shutdown: between two batches, or by ending its session mid-statement
 * (a batch rolls back, an index build left invalid is dropped and built
 * again by the next start). Where nothing is queued (a fresh install, or an
 * upgrade already done) it opens no connection at all.
 */
export class OnlineUpgradeRunner {
  private running: Promise<unknown> = Promise.resolve()
  private abort = new AbortController()
  private pid: number | null = null

  constructor(
    private readonly connection: ClientConfig,
    private readonly db: Knex,
    private readonly logger: Logger
  ) {}

  /**
   * `sessionUsable` false: the connection it would open goes through a
   * transaction pooler (the listener found it cannot LISTEN there), where its
   * advisory lock and settings would land on sessions other clients get; it
   * then only says what waits, and how to run it.
   */
  start({ sessionUsable }: { sessionUsable: boolean }): void {
    this.abort = new AbortController()
    if (!sessionUsable) {
      this.running = this.sayWhatWaits()
      return
    }
    this.running = this.run(false).catch((error) => {
      // Cancelled by stop(), or our tables reverted under it: nothing is lost, the next start looks again.
      if (this.abort.signal.aborted || error?.code === UNDEFINED_TABLE) {
        this.logger.info(
          `Workflow engine upgrade stopped, the next start resumes it: ${error?.message ?? error}`
        )
      } else {
        this.logger.error(
          `Workflow engine upgrade stopped, the next start resumes it: ${error?.message ?? error}`
        )
      }
    })
  }

  private async sayWhatWaits(): Promise<void> {
    try {
      if (await anyTaskQueued(this.db)) {
        this.logger.warn(
          `Workflow engine: the online upgrade has work queued (back-fills or index builds left by the migrations), and it ` +
            `needs a session of its own, which a transaction pooler does not give. Set the module option ` +
            `directDatabaseUrl to a direct connection, and it runs at the next start (see "Behind a connection pooler" in the README).`
        )
      }
    } catch (error) {
      this.logger.warn(
        `Workflow engine: could not look for a queued online upgrade: ${error}`
      )
    }
  }

  /** Runs what is left now, after a run in hand (the public "finish the upgrade now", for tests and operators). */
  async runNow(): Promise<OnlineUpgradeResult> {
    await this.running
    const now = this.run(true)
    // Its failure is the caller's, below; a stop or the next runNow only waits for it.
    this.running = now.catch(() => undefined)
    return await now
  }

  /** For a process that will not run it (see Supervisor): says what is pending and how to finish it. */
  async warnIfPending(): Promise<void> {
    await warnOfPendingUpgrade(this.db, this.logger).catch((error) =>
      this.logger.warn(
        `Workflow engine: could not read whether an upgrade is pending: ${error?.message ?? error}`
      )
    )
  }

  async stop(): Promise<void> {
    this.abort.abort()
    if (this.pid !== null) {
      /*
       * Only the upgrade's own session, so that a build in hand does not hold
       * the shutdown (nor the schema it works on). Terminated, not cancelled:
       * a cancel that reaches the session between two statements is lost.
       */
      const pid = this.pid
      await this.db
        .raw(`SELECT pg_terminate_backend(?)`, [pid])
        .catch((error) =>
          this.logger.warn(
            `Workflow engine upgrade: could not end its session (pid ${pid}), the stop waits for its statement: ${error}`
          )
        )
    }
    await this.running
  }

  private async run(wait: boolean): Promise<OnlineUpgradeResult> {
    if (!wait && !(await anyTaskQueued(this.db))) {
      return {
        ran: true,
        finished: [],
        rows: 0,
        batches: 0,
        ms: 0,
        longestLockedBatchMs: 0,
      }
    }
    try {
      return await runOnlineUpgrade(this.connection, {
        wait,
        logger: this.logger,
        signal: this.abort.signal,
        onConnected: (pid) => (this.pid = pid),
      })
    } finally {
      this.pid = null
    }
  }
}
