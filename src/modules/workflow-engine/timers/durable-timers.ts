import { Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { Queryable } from "../db"
import { InFlight } from "../in-flight"
import { EngineRecorder, NO_RECORDER } from "../metrics/engine-recorder"
import { inSpan } from "../metrics/engine-spans"
import { claimDueTimers, claimTimer } from "./sql/claim-due-timers"
import {
  completeTimer,
  deleteRunTimers,
  deleteTimers,
} from "./sql/delete-timer"
import { nextTimerWaitMs } from "./sql/next-timer-wait"
import { RunFence } from "./sql/run-fence"
import { releaseTimer } from "./sql/release-timer"
import { upsertTimer } from "./sql/upsert-timer"
import { runTimerKeys } from "./timer-keys"
import { ClaimedTimer, TimerSpec } from "./timer-spec"

/** Fires a claimed timer: continues its transaction through the engine. */
export type TimerHandler = (timer: ClaimedTimer) => Promise<void>

export type DurableTimersConfig = {
  instanceId: string
  /** false on a `server` instance (see runsWork): it sets timers but leaves firing them to workers */
  runsWork: boolean
  /** the longest wait between two looks at the table when nothing wakes this instance */
  pollIntervalMs: number
  /** how long to wait before another try of a timer whose run failed to continue */
  releaseDelayMs: number
}

const CLAIM_BATCH = 50

/**
 * Timers of every instance, in `workflow_execution_timer`. A timer set here
 * is also armed here, so it fires on time without a poll; every other
 * instance learns of it by NOTIFY and looks at the next due time, and takes
 * it over if this one dies before firing it. Nothing is lost on restart: the
 * row stays until a claimer fired it or its run cleared it.
 */
export class DurableTimers {
  private readonly armed = new Map<string, NodeJS.Timeout>()
  private readonly running = new InFlight()
  private readonly firing = new Map<string, Promise<void>>()
  private pumpTimer?: NodeJS.Timeout
  private pumpAt = Infinity
  private pumping = false
  private pumpAgain = false
  private started = false

  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    private readonly config: DurableTimersConfig,
    private readonly fire: TimerHandler,
    private readonly recorder: EngineRecorder = NO_RECORDER
  ) {}

  /**
   * Sets a timer `delayMs` from now, for a run still at the fence's epoch
   * (false when it was refused: the run was taken over). A timer due at once
   * is born claimed by this instance and fired here straight away (one
   * insert, one delete).
   */
  async set(
    timer: TimerSpec,
    delayMs: number,
    fence: RunFence
  ): Promise<boolean> {
    const firesHere = this.config.runsWork && this.started
    const claimedNow = firesHere && delayMs <= 0
    const dueAt = await upsertTimer(
      this.db,
      timer,
      delayMs,
      claimedNow ? this.config.instanceId : null,
      fence
    )
    if (!dueAt || !firesHere) {
      return !!dueAt
    }
    if (claimedNow) {
      this.disarm(timer.key)
      this.track(this.runClaimed({ ...timer, due_at: dueAt }))
      return true
    }
    this.arm(timer.key, delayMs)
    return true
  }

  /** Clears timers of a run still at the fence's epoch; false when it was refused (the run was taken over). */
  async clear(
    run: { workflowId: string; transactionId: string },
    keys: string[],
    fence: RunFence
  ): Promise<boolean> {
    const cleared = await deleteRunTimers(this.db, run, keys, fence)
    if (cleared) {
      keys.forEach((key) => this.disarm(key))
    }
    return cleared
  }

  /** Clears every timer of a run, on `db` (the transaction that stores its end). */
  async clearRun(
    db: Queryable,
    workflowId: string,
    transactionId: string,
    stepIds: string[]
  ): Promise<void> {
    const keys = runTimerKeys(workflowId, transactionId, stepIds)
    keys.forEach((key) => this.disarm(key))
    await deleteTimers(db, keys)
  }

  start(): void {
    if (!this.config.runsWork || this.started) {
      return
    }
    this.started = true
    this.wake()
  }

  /** Look at the table now: a timer was set elsewhere, or the connection came back. */
  wake(): void {
    this.schedulePump(0)
  }

  /** Stops claiming and waits for the timers being fired to finish. */
  async stop(): Promise<void> {
    this.started = false
    clearTimeout(this.pumpTimer)
    this.pumpTimer = undefined
    for (const key of [...this.armed.keys()]) {
      this.disarm(key)
    }
    await this.running.settled()
  }

  private arm(key: string, delayMs: number): void {
    this.disarm(key)
    const timeout = setTimeout(
      () => {
        this.armed.delete(key)
        this.track(this.claimAndRun(key))
      },
      Math.max(0, delayMs)
    )
    timeout.unref()
    this.armed.set(key, timeout)
  }

  private disarm(key: string): void {
    clearTimeout(this.armed.get(key))
    this.armed.delete(key)
  }

  private async claimAndRun(key: string): Promise<void> {
    if (!this.started) {
      return
    }
    const timer = await claimTimer(this.db, key, this.config.instanceId)
    if (timer) {
      await this.runClaimed(timer)
    } else {
      // Not due yet by the database clock, cleared, or taken: the pump knows which.
      this.schedulePump(0)
    }
  }

  /**
   * Fires one timer of a transaction at a time here: two due together (an
   * async step's continue and a retry, or continues set by two executions)
   * would each run the transaction, and both run its next step. The later
   * one runs once the first is done, and is judged against what it left.
   */
  private runClaimed(timer: ClaimedTimer): Promise<void> {
    const run = `${timer.workflow_id}\u0000${timer.transaction_id}`
    // The one before fires this one's run whatever became of it (fireClaimed reports its own failures).
    const previous = (this.firing.get(run) ?? Promise.resolve()).catch(
      () => undefined
    )
    const next = previous.then(() => this.fireClaimed(timer))
    this.firing.set(run, next)
    const forget = () => {
      if (this.firing.get(run) === next) {
        this.firing.delete(run)
      }
    }
    next.then(forget, forget)
    return next
  }

  private async fireClaimed(timer: ClaimedTimer): Promise<void> {
    // On this instance's clock against the database's: lateness includes any skew between the two.
    const latenessMs = Date.now() - new Date(timer.due_at).getTime()
    try {
      await inSpan(
        "workflow_engine.timer.fire",
        {
          workflow_id: timer.workflow_id,
          "workflow_engine.timer.kind": timer.kind,
        },
        () => this.fire(timer)
      )
      this.recorder.timerFired(timer.kind, latenessMs, false)
    } catch (error) {
      this.recorder.timerFired(timer.kind, latenessMs, true)
      this.logger.error(
        `Workflow timer ${timer.key} (workflow ${timer.workflow_id}, transaction ${timer.transaction_id}) ` +
          `failed, trying again in ${this.config.releaseDelayMs} ms: ${describe(error)}`
      )
      await releaseTimer(
        this.db,
        timer,
        this.config.releaseDelayMs,
        this.config.instanceId
      ).catch((release) =>
        this.logger.warn(
          `Workflow timer ${timer.key}: could not hand it back (${describe(release)}); its claim runs out with this instance's lease`
        )
      )
      return
    }
    await completeTimer(
      this.db,
      timer.key,
      timer.due_at,
      this.config.instanceId
    ).catch((error) =>
      this.logger.warn(
        `Workflow timer ${timer.key} (workflow ${timer.workflow_id}, transaction ${timer.transaction_id}) fired, ` +
          `but could not be removed (${describe(error)}); it stays claimed by this instance until its lease ends`
      )
    )
  }

  private schedulePump(delayMs: number): void {
    if (!this.started) {
      return
    }
    const at = Date.now() + delayMs
    if (this.pumpTimer && this.pumpAt <= at) {
      return
    }
    clearTimeout(this.pumpTimer)
    this.pumpAt = at
    this.pumpTimer = setTimeout(
      () => {
        this.pumpTimer = undefined
        this.pumpAt = Infinity
        this.track(this.pump())
      },
      Math.max(0, delayMs)
    )
    this.pumpTimer.unref()
  }

  // One pump at a time; a wake-up during a pump runs another right after it.
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    this.pumping = true
    let waitMs = this.config.pollIntervalMs
    try {
      let claimed: ClaimedTimer[]
      do {
        claimed = await claimDueTimers(
          this.db,
          this.config.instanceId,
          CLAIM_BATCH
        )
        for (const timer of claimed) {
          this.disarm(timer.key)
          this.track(this.runClaimed(timer))
        }
      } while (claimed.length === CLAIM_BATCH && this.started)
      const next = await nextTimerWaitMs(this.db)
      if (next !== null) {
        waitMs = Math.min(waitMs, next)
      }
    } catch (error) {
      if (this.started) {
        this.logger.warn(
          `Workflow timers: could not read due timers, trying again: ${describe(error)}`
        )
      }
    } finally {
      this.pumping = false
    }
    this.schedulePump(this.pumpAgain ? 0 : waitMs)
    this.pumpAgain = false
  }

  private track(work: Promise<void>): void {
    void this.running.track(
      work.catch((error) =>
        this.logger.error(`Workflow timers: ${describe(error)}`)
      )
    )
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error)
}
