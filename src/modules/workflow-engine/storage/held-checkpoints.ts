import { AsyncLocalStorage } from "async_hooks"
import { TransactionOrchestrator } from "@medusajs/framework/orchestration"
import { WrittenAlong } from "../db"
import { runKey } from "../run-key"

/** A run, by its workflow and transaction. */
export type HeldRun = { workflowId: string; transactionId: string }

/** A timer set while a checkpoint was held, written by the checkpoint's statement. */
type Attached = { key: string; along: WrittenAlong }

type Held = {
  run: string
  write: (along: WrittenAlong[]) => Promise<void>
  attached?: Attached
  /** Settles when the checkpoint was written, or replaced before it was. */
  settle: () => void
}

/** Refused held writes kept for their run's next release; past it, the oldest are forgotten. */
const REMEMBERED_REFUSALS = 1_000

type Sending = { run: string; written: Promise<void> }

/**
 * Checkpoints of a run kept in this process until something could act on
 * them: a step's handler starting (it may be answered from elsewhere, or have
 * effects a crash must not repeat unknowingly), a timer being set (it may fire
 * on another instance), the run loaded again, or the call that made them
 * returning to its caller. Only the engine's own calls wait for that last
 * one (see within): a run started or answered through the workflow itself
 * (`workflow(container).run()`, as most of Medusa's routes do) returns when
 * Medusa's orchestrator does, so its checkpoints are sent as they are saved.
 * Medusa's orchestrator often saves twice with none of these in between
 * (before and after it prepares an async step, a step's end and the next
 * step's start): the earlier checkpoint is then never sent, the later one
 * replaces it. Nothing is held past the current turn of the event loop:
 * what no trigger released by then is written then.
 *
 * A crash can therefore lose only checkpoints that nothing outside the
 * process had acted on; the run is found at the one before, as if the crash
 * had come just before them. Per execution (see seen-versions): two
 * executions of one run in this process hold their own. A timer set while a
 * checkpoint is held can be attached to it and written by its statement
 * (see storage-adapter): the two commit together.
 */
export class HeldCheckpoints {
  private readonly held = new Map<string, Held>()
  private readonly sending = new Map<string, Sending>()
  /**
   * Held checkpoints the database refused (the run taken over or overtaken:
   * the orchestrator's expected errors), for the next release to throw.
   */
  private readonly refused = new Map<string, unknown>()

  /**
   * Runs `work`, one of the engine's calls on `run`, within which the run's
   * checkpoints may be held; returns once they are written, so that the
   * caller finds stored what the call did.
   */
  async within<T>(run: HeldRun, work: () => Promise<T>): Promise<T> {
    try {
      return await calls.run(runKey(run), work)
    } finally {
      await this.settled(run)
    }
  }

  /** Whether a checkpoint of `run` saved now may be held: its call waits for it (see within). */
  mayHold(run: HeldRun): boolean {
    return calls.getStore() === runKey(run)
  }

  /**
   * Keeps `write` for `execution` of `run` until something releases it;
   * returns a promise that settles once it was written or replaced.
   */
  hold(
    run: HeldRun,
    execution: string,
    write: (along: WrittenAlong[]) => Promise<void>
  ): Promise<void> {
    const replaced = this.held.get(execution)
    replaced?.settle()
    let settle!: () => void
    const settled = new Promise<void>((resolve) => (settle = resolve))
    this.held.set(execution, {
      run: runKey(run),
      write,
      settle,
      attached: replaced?.attached,
    })
    setImmediate(() => void this.send(execution).catch(() => undefined))
    return settled
  }

  /**
   * Before the next save of `execution` goes on: one being written is waited
   * for. With `writtenNow` (that save is written at once), what the
   * execution holds is replaced by it, dropped unsent, but for one a timer
   * waits on, which is written as it was, its timer with it; a held save
   * that is held again carries the timer over instead (see hold). A held
   * write that failed is the next write's to find again: what refused it is
   * in the database. Resolves true when it waited for a write (the
   * execution's last version may have moved).
   */
  async beforeSave(execution: string, writtenNow: boolean): Promise<boolean> {
    const held = this.held.get(execution)
    if (writtenNow) {
      this.refused.delete(execution)
      if (held && !held.attached) {
        held.settle()
        this.held.delete(execution)
      }
    }
    const waited =
      this.sending.get(execution) ??
      (writtenNow ? this.held.get(execution) : undefined)
    if (waited) {
      await this.send(execution).catch(() => undefined)
    }
    return !!waited
  }

  /**
   * Has the timer `key` written by the statement of the checkpoint that
   * `execution` holds, made by `make` (one a checkpoint: a second is set on
   * its own); false when the execution holds none.
   */
  attach(execution: string, key: string, make: () => WrittenAlong): boolean {
    const held = this.held.get(execution)
    if (!held || held.attached) {
      return false
    }
    held.attached = { key, along: make() }
    return true
  }

  /** The run's timers `keys` were cleared: one waiting on a held checkpoint is not set. */
  drop(run: HeldRun, keys: string[]): void {
    const key = runKey(run)
    for (const held of this.held.values()) {
      if (
        held.run === key &&
        held.attached &&
        keys.includes(held.attached.key)
      ) {
        held.attached = undefined
      }
    }
  }

  /**
   * Writes what the run's executions hold now and waits for what is being
   * written, before something acts on it; throws when the database refused
   * one (the orchestrator then stops quietly, as at a refused save). Any
   * other failure was logged where it happened, and the next save decides.
   */
  async release(run: HeldRun): Promise<void> {
    const executions = await this.written(run)
    for (const execution of executions) {
      if (this.refused.has(execution)) {
        const refusal = this.refused.get(execution)
        this.refused.delete(execution)
        throw refusal
      }
    }
  }

  /** As release, for a caller that is not the run's to stop: a refusal stays for the next release. */
  async settled(run: HeldRun): Promise<void> {
    await this.written(run)
  }

  private async written(run: HeldRun): Promise<string[]> {
    if (!this.held.size && !this.sending.size) {
      return []
    }
    const key = runKey(run)
    const executions = new Set(
      [...this.held, ...this.sending]
        .filter(([, entry]) => entry.run === key)
        .map(([execution]) => execution)
    )
    await Promise.allSettled([...executions].map((e) => this.send(e)))
    return [...executions]
  }

  private send(execution: string): Promise<void> {
    const sending = this.sending.get(execution)
    if (sending) {
      return sending.written
    }
    const held = this.held.get(execution)
    if (!held) {
      return Promise.resolve()
    }
    this.held.delete(execution)
    const written = held
      .write(held.attached ? [held.attached.along] : [])
      .catch((error) => {
        if (TransactionOrchestrator.isExpectedError(error as Error)) {
          this.refused.set(execution, error)
          if (this.refused.size > REMEMBERED_REFUSALS) {
            this.refused.delete(this.refused.keys().next().value!)
          }
        }
        throw error
      })
    const forget = () => {
      this.sending.delete(execution)
      held.settle()
    }
    written.then(forget, forget)
    this.sending.set(execution, {
      run: held.run,
      written: written.then(() => undefined),
    })
    return this.sending.get(execution)!.written
  }
}

/** The run whose engine call is under way (see within); work it starts inherits it, whoever waits for it. */
const calls = new AsyncLocalStorage<string>()

/**
 * The process' held checkpoints: one for every engine started in it, as
 * Medusa's step-handler hook that releases them is (see handler-notes), and
 * keyed by executions, which are numbered across the process.
 */
export const heldCheckpoints = new HeldCheckpoints()
