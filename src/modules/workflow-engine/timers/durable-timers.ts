import { Logger } from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { Queryable, WrittenAlong } from "../db"
import { InFlight } from "../in-flight"
import { EngineRecorder, NO_RECORDER } from "../metrics/engine-recorder"
import { inSpan } from "../metrics/engine-spans"
import { runKey } from "../run-key"
import { claimDueTimers } from "./sql/claim-due-timers"
import {
  completeTimer,
  deleteRunTimers,
  timersCompletedWith,
  timersRemovedWith,
} from "./sql/delete-timer"
import {
  HeldClears,
  heldClearsOf,
  holdingClears,
  releaseHeldClears,
} from "./held-clears"
import { RunFence } from "./sql/run-fence"
import {
  releaseAllTimers,
  releaseClaim,
  releaseTimer,
} from "./sql/release-timer"
import { timerSetWith, upsertTimer } from "./sql/upsert-timer"
import { runTimerKeys } from "./timer-keys"
import { ClaimedTimer, TimerSpec } from "./timer-spec"

/**
 * Fires a claimed timer: continues its transaction through the engine.
 * Resolves false when an armed one turned out not to be this instance's to
 * fire (see fire-timer): nothing was done, nothing is left to remove.
 */
export type TimerHandler = (timer: ClaimedTimer) => Promise<boolean>

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

/** A timer this instance set and fires itself, due at `dueMs` on this process' clock. */
type ArmedTimer = {
  timer: TimerSpec
  /** The row's due time, as written: which claim of the key this is. */
  dueAt: Date
  dueMs: number
  timeout?: NodeJS.Timeout
}

/**
 * Timers of every instance, in `workflow_execution_timer`. A timer set on a
 * worker is born claimed by it and armed in its process, due when the
 * orchestrator asked plus the delay: it fires on time without a poll or a
 * NOTIFY, and the others take it over only if this instance dies (its lease
 * runs out) or stops (it hands its timers back). A timer set on an instance
 * that fires none (a `server`) is free: the workers learn of it by NOTIFY,
 * and the first to find it due claims it. Nothing is lost on restart: the
 * row stays until a claimer fired it or its run cleared it.
 */
export class DurableTimers {
  private readonly armed = new Map<string, ArmedTimer>()
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
   * (false when it was refused: the run was taken over). On an instance that
   * fires timers it is born claimed by it: one due at once is fired here
   * straight away (one insert, one delete), a later one is armed here.
   */
  async set(
    timer: TimerSpec,
    delayMs: number,
    fence: RunFence
  ): Promise<boolean> {
    const { dueMs, firesHere } = this.setting(timer, delayMs)
    const dueAt = await upsertTimer(
      this.db,
      timer,
      delayMs,
      firesHere ? this.config.instanceId : null,
      fence
    )
    if (!dueAt || !firesHere) {
      return !!dueAt
    }
    await this.armSet(timer, dueAt, dueMs, delayMs)
    return true
  }

  /**
   * Sets a timer as set() does, by the statement that writes its run's
   * checkpoint (see storage/held-checkpoints): armed here once that committed.
   */
  setWith(timer: TimerSpec, delayMs: number): WrittenAlong {
    const { dueMs, firesHere } = this.setting(timer, delayMs)
    return timerSetWith(
      timer,
      { delayMs, dueMs },
      firesHere ? this.config.instanceId : null,
      // Waited for by the write, so that a shutdown under way waits for a timer handed back here.
      async (dueAt) => {
        if (!firesHere) {
          return
        }
        await (
          dueAt
            ? this.armSet(timer, dueAt, dueMs, delayMs)
            : releaseClaim(this.db, timer.key, this.config.instanceId)
        ).catch((error) =>
          this.logger.warn(
            `Workflow timer ${timer.key}: could not arm it or hand it back (${describe(error)}); ` +
              `other instances take it over when this instance's lease ends`
          )
        )
      }
    )
  }

  /** When a timer being set is due on this process' clock, and whether it is born claimed here to fire. */
  private setting(
    timer: TimerSpec,
    delayMs: number
  ): { dueMs: number; firesHere: boolean } {
    // Due from the moment the orchestrator asked (its step failed, its step began), not from when the write
    // returns: under load the write waits for a connection, and a timer armed after it fired that much later.
    const dueMs = Date.now() + Math.max(0, delayMs)
    // A timer set again after a held clear of it stays.
    releaseHeldClears(
      { workflowId: timer.workflow_id, transactionId: timer.transaction_id },
      timer.key
    )
    return { dueMs, firesHere: this.config.runsWork && this.started }
  }

  /** A timer this instance set for itself to fire: fired at once, or armed here (see set). */
  private async armSet(
    timer: TimerSpec,
    dueAt: Date,
    dueMs: number,
    delayMs: number
  ): Promise<void> {
    if (!this.started) {
      // Stopped while it was written: hand it back, as stop() handed back the others.
      await this.handBack({ ...timer, due_at: dueAt }, dueMs - Date.now())
      return
    }
    if (delayMs <= 0) {
      this.disarm(timer.key)
      this.track(this.runClaimed({ ...timer, due_at: dueAt }))
      return
    }
    this.arm({ timer, dueAt, dueMs })
  }

  /**
   * Clears timers of a run still at the fence's epoch; false when it was
   * refused (the run was taken over). Within a call that holds the run's
   * clears (see held-clears), they are sent when it is done, and the fence is
   * checked then, with the run's version as `seen` then gives it.
   */
  async clear(
    run: { workflowId: string; transactionId: string },
    keys: string[],
    fence: RunFence,
    seen?: () => string | undefined
  ): Promise<boolean> {
    const held = heldClearsOf(run)
    if (held) {
      held.hold(keys, fence, seen)
      keys.forEach((key) => this.disarm(key))
      return true
    }
    const cleared = await deleteRunTimers(this.db, run, keys, fence)
    if (cleared) {
      keys.forEach((key) => this.disarm(key))
    }
    return cleared
  }

  /**
   * Runs `work`, an answer to a step of `run`, holding the clears of the
   * run's timers it makes (see held-clears), sent once it is done.
   */
  async holdingClears<T>(
    run: { workflowId: string; transactionId: string },
    work: () => Promise<T>
  ): Promise<T> {
    return await holdingClears(run, work, (held) => this.sendHeld(held))
  }

  /**
   * A run's end removes every timer of the run, in the statement that stores
   * it (see WrittenAlong). None is left to fire after a restart, whatever the
   * orchestrator cleared.
   */
  removedWithEnd(
    workflowId: string,
    transactionId: string,
    stepIds: string[]
  ): WrittenAlong {
    const keys = runTimerKeys(workflowId, transactionId, stepIds)
    const held = heldClearsOf({ workflowId, transactionId })
    return {
      ...timersRemovedWith(keys),
      committed: () => {
        keys.forEach((key) => this.disarm(key))
        if (held) {
          held.ended = true
        }
      },
    }
  }

  /**
   * What the call working on the run (see held-clears) has to remove, for the
   * run's write under `fence` to carry: the timer the call fires, and the
   * clears it made so far under that fence. Nothing is left for a statement
   * at the call's end when a write of the run follows them.
   */
  removedWithWrite(
    run: { workflowId: string; transactionId: string },
    fence: RunFence
  ): WrittenAlong | undefined {
    const carry = heldClearsOf(run)?.toCarry(fence)
    if (!carry) {
      return undefined
    }
    const { fired, keys, carried } = carry
    return {
      ...timersCompletedWith(
        fired && {
          key: fired.key,
          dueAt: fired.due_at,
          claimedBy: this.config.instanceId,
        },
        keys
      ),
      committed: carried,
    }
  }

  start(): void {
    if (!this.config.runsWork || this.started) {
      return
    }
    this.started = true
    this.wake()
  }

  /**
   * Look at the table now: a timer was set elsewhere, or the connection came
   * back. `setBy`: the instance that set and armed the timer (see
   * upsert-timer); this one, when it is its own.
   */
  wake(setBy?: string): void {
    if (setBy !== this.config.instanceId) {
      this.schedulePump(0)
    }
  }

  /**
   * Stops claiming and waits for the timers being fired to finish. With
   * `handBack` (the pool is still there), the timers armed here and not fired
   * are handed back, for the other instances to fire at their due times;
   * otherwise their claims end with this instance's lease.
   */
  async stop({ handBack = true }: { handBack?: boolean } = {}): Promise<void> {
    const wasStarted = this.started
    this.started = false
    clearTimeout(this.pumpTimer)
    this.pumpTimer = undefined
    for (const key of [...this.armed.keys()]) {
      this.disarm(key)
    }
    await this.running.settled()
    if (wasStarted && handBack) {
      await releaseAllTimers(this.db, this.config.instanceId).catch((error) =>
        this.logger.warn(
          `Workflow timers: could not hand back the timers armed here (${describe(error)}); ` +
            `other instances take them over when this instance's lease ends`
        )
      )
    }
  }

  /**
   * Fires only once this process' clock is past the due moment: the
   * orchestrator checks a retry or timeout against that clock (the attempt's
   * start plus the interval, strictly later for a timeout), and a timer that
   * fired a millisecond early would be consumed with nothing done.
   */
  private arm(armed: ArmedTimer, atMs = armed.dueMs): void {
    this.disarm(armed.timer.key)
    armed.timeout = setTimeout(
      () => {
        if (Date.now() <= atMs) {
          this.arm(armed, atMs)
          return
        }
        this.armed.delete(armed.timer.key)
        // Claimed by its run's first load (see fire-timer): one statement for both.
        this.track(
          this.runClaimed(
            { ...armed.timer, due_at: armed.dueAt, armed: true },
            armed.dueMs
          )
        )
      },
      Math.max(0, atMs - Date.now() + 1)
    )
    armed.timeout.unref()
    this.armed.set(armed.timer.key, armed)
  }

  private disarm(key: string): void {
    clearTimeout(this.armed.get(key)?.timeout)
    this.armed.delete(key)
  }

  private async handBack(timer: ClaimedTimer, delayMs: number): Promise<void> {
    await releaseTimer(this.db, timer, delayMs, this.config.instanceId).catch(
      (error) =>
        this.logger.warn(
          `Workflow timer ${timer.key}: could not hand it back (${describe(error)}); its claim runs out with this instance's lease`
        )
    )
  }

  /**
   * Fires one timer of a transaction at a time here: two due together (an
   * async step's continue and a retry, or continues set by two executions)
   * would each run the transaction, and both run its next step. The later
   * one runs once the first is done, and is judged against what it left.
   */
  private runClaimed(timer: ClaimedTimer, dueMs?: number): Promise<void> {
    const run = runKey({
      workflowId: timer.workflow_id,
      transactionId: timer.transaction_id,
    })
    // The one before fires this one's run whatever became of it (fireClaimed reports its own failures).
    const previous = (this.firing.get(run) ?? Promise.resolve()).catch(
      () => undefined
    )
    const next = previous.then(() => this.fireClaimed(timer, dueMs))
    this.firing.set(run, next)
    const forget = () => {
      if (this.firing.get(run) === next) {
        this.firing.delete(run)
      }
    }
    next.then(forget, forget)
    return next
  }

  /** `dueMs`: when the timer was due on this process' clock, for one it armed itself. */
  private async fireClaimed(
    timer: ClaimedTimer,
    dueMs?: number
  ): Promise<void> {
    // For a timer another instance set: on this instance's clock against the database's, so any skew counts too.
    const latenessMs = Date.now() - (dueMs ?? new Date(timer.due_at).getTime())
    const run = {
      workflowId: timer.workflow_id,
      transactionId: timer.transaction_id,
    }
    let failure: { error: unknown } | undefined
    let fired = true
    await holdingClears(
      run,
      () =>
        inSpan(
          "workflow_engine.timer.fire",
          {
            workflow_id: timer.workflow_id,
            "workflow_engine.timer.kind": timer.kind,
          },
          async () => {
            fired = await this.fire(timer)
          },
          { root: true }
        ).catch((error) => {
          failure = { error }
        }),
      // A failed firing hands its timer back (below) rather than removing it; one not fired has none to remove.
      (held) =>
        failure || !fired ? this.sendHeld(held) : this.complete(timer, held),
      timer
    )
    if (!fired) {
      return
    }
    this.recorder.timerFired(timer.kind, latenessMs, !!failure)
    if (failure) {
      this.logger.error(
        `Workflow timer ${timer.key} (workflow ${timer.workflow_id}, transaction ${timer.transaction_id}) ` +
          `failed, trying again in ${this.config.releaseDelayMs} ms: ${describe(failure.error)}`
      )
      await this.handBack(timer, this.config.releaseDelayMs)
    }
  }

  /**
   * Removes a timer fired here, with the clears its run made meanwhile; not at
   * all when a write of its run removed it (the run's end, or one that
   * carried it: see removedWithWrite), then only what is left of the clears.
   */
  private async complete(timer: ClaimedTimer, held: HeldClears): Promise<void> {
    if (held.ended) {
      return
    }
    if (held.firedRemoved) {
      await this.sendHeld(held)
      return
    }
    await completeTimer(
      this.db,
      timer.key,
      timer.due_at,
      this.config.instanceId,
      held.toSend(timer.key)
    ).catch((error) =>
      this.logger.warn(
        `Workflow timer ${timer.key} (workflow ${timer.workflow_id}, transaction ${timer.transaction_id}) fired, ` +
          `but could not be removed (${describe(error)}); it stays claimed by this instance until its lease ends`
      )
    )
  }

  /** Sends the clears held by a call that removes no timer of its own (an answer, a failed firing). */
  private async sendHeld(held: HeldClears): Promise<void> {
    const clears = held.toSend()
    if (!clears) {
      return
    }
    const { run, keys, fence, version } = clears
    await deleteRunTimers(this.db, run, keys, fence, version).catch((error) =>
      this.logger.warn(
        `Workflow ${run.workflowId} (transaction ${run.transactionId}): could not clear timers ${keys.join(", ")}; ` +
          `they are dropped as stale when they fire (${describe(error)})`
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
      let due
      do {
        due = await claimDueTimers(this.db, this.config.instanceId, CLAIM_BATCH)
        for (const timer of due.timers) {
          this.disarm(timer.key)
          this.track(this.runClaimed(timer))
        }
      } while (due.timers.length === CLAIM_BATCH && this.started)
      if (due.waitMs !== null) {
        waitMs = Math.min(waitMs, due.waitMs)
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
