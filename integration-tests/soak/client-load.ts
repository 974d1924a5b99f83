import { TransactionStepStatus } from "@medusajs/framework/utils"
import {
  FINISHED_STATES,
  FINISHED_STATES_SQL,
} from "../../src/modules/workflow-engine/transaction-states"
import {
  Command,
  ListReply,
  RunReply,
} from "../cluster/__fixtures__/instance-commands"
import { ask, Instance } from "../cluster/__fixtures__/instances"
import { within } from "../modules/__fixtures__/engine"
import {
  ANSWERED_STEP,
  SOAK_WF,
  SoakWorkflow,
} from "./__fixtures__/soak-workflows-ids"
import { InstanceSlot } from "./instance-slots"
import { SoakConfig } from "./soak-config"
import { SoakDatabase } from "./soak-database"
import {
  InFlightSample,
  isAcknowledged,
  RequestSample,
  SoakRun,
} from "./soak-records"

/** How often each workflow is started: mostly synchronous stored runs, as in a store. */
const WORKFLOW_MIX: [SoakWorkflow, number][] = [
  [SOAK_WF.sync, 0.35],
  [SOAK_WF.shortLived, 0.15],
  [SOAK_WF.answered, 0.25],
  [SOAK_WF.retry, 0.15],
  [SOAK_WF.timeout, 0.1],
]
/** What the admin's workflow list asks: a page of 20, newest first, with and without filters. */
const LIST_FILTERS: Record<string, unknown>[] = [
  {},
  { workflow_id: SOAK_WF.sync },
  { state: ["invoking", "not_started"] },
  { workflow_id: [SOAK_WF.answered, SOAK_WF.retry], state: "done" },
  { q: "a-1" },
]
const LIST_PAGE = { take: 20, skip: 0, order: { created_at: "DESC" } }
// A client's answer to an async step, some time after the run said it started.
const ANSWER_DELAY_MS: [number, number] = [200, 1500]
// An answer cut by a kill is sent again to another instance, up to this many times.
const ANSWER_ATTEMPTS = 5
// Bounds on each client loop besides the load's end: no loop can spin, whatever its requests meet.
const MAX_RUNS_PER_LOOP_PER_SECOND = 50
const POLL_MS = 300
const SAMPLE_EVERY_MS = 1000

const CUT = /exited before it answered|not within \d+ ms/
// A killed instance's error goes on with everything the process printed: its first line says it all.
const messageOf = (error: unknown) => {
  const message = String((error as Error)?.message ?? error)
  return CUT.test(message)
    ? message.split("\n")[0].replace(/:$/, "")
    : message.replace(/\s+/g, " ").slice(0, 500)
}

/** The paced moments of the load (an answer's delay, the list cadence); not a wait for anything to happen. */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The soak's clients: per instance slot, `loopsPerInstance` loops that each
 * start a run, answer it if it waits for an answer (from another instance),
 * and wait for its row to end before starting the next; an admin list loop;
 * and, after the load, the drain.
 */
export class ClientLoad {
  readonly runs: SoakRun[] = []
  readonly requests: RequestSample[] = []
  readonly inFlight: InFlightSample[] = []
  /** Lists whose total was below the rows of their page. */
  readonly listMismatches: string[] = []
  private readonly byTransaction = new Map<string, SoakRun>()
  private readonly ending = new Map<
    string,
    { deadline: number; resolve: () => void }
  >()
  private readonly drainAnswered = new Set<string>()

  constructor(
    private readonly slots: InstanceSlot[],
    private readonly db: SoakDatabase,
    private readonly config: SoakConfig,
    private readonly random: () => number,
    private readonly loadEndsAt: number
  ) {}

  /**
   * Runs the load until its end; from then on, answers what still waits and
   * waits until no run is in flight (or the settle deadline passed).
   * Resolves when the last loop's last run has ended and nothing is in
   * flight, with the moment the drain found nothing in flight (or undefined).
   */
  async run(): Promise<number | undefined> {
    const settleBy = this.loadEndsAt + this.config.settleSeconds * 1000
    const watcher = setInterval(() => void this.pollEnds(), POLL_MS)
    const sampler = setInterval(() => this.sampleInFlight(), SAMPLE_EVERY_MS)
    try {
      const loops = this.slots.flatMap((slot) =>
        Array.from({ length: this.config.loopsPerInstance }, (_, loop) =>
          this.clientLoop(slot, loop + 1, settleBy)
        )
      )
      const [settledAt] = await Promise.all([
        this.drain(settleBy),
        ...loops,
        this.listLoop(),
      ])
      return settledAt
    } finally {
      clearInterval(sampler)
      clearInterval(watcher)
    }
  }

  /**
   * After the load: answers every stored run whose async step waits for an
   * answer and whose handler ran (the outside system got its call; its start
   * or its answer was cut by a kill), and waits until no run is in flight.
   * A run whose handler never ran gets no answer: nobody outside knows of it.
   */
  private async drain(deadline: number): Promise<number | undefined> {
    await pause(this.loadEndsAt - Date.now())
    for (;;) {
      const rows = await this.db
        .query<{ transaction_id: string; answerable: boolean }>(
          `SELECT e.transaction_id,
                  e.workflow_id = $1 AND e.execution -> 'steps' -> $2 -> 'invoke' ->> 'status' = $3
                  AND EXISTS (SELECT 1 FROM soak_log l WHERE l.key = e.transaction_id AND l.kind = 'invoke' AND l.step = $4) AS answerable
             FROM workflow_execution e WHERE e.state NOT IN (${FINISHED_STATES_SQL})`,
          [
            SOAK_WF.answered,
            `_root.${ANSWERED_STEP}`,
            TransactionStepStatus.WAITING,
            ANSWERED_STEP,
          ]
        )
        // The database is away: ask again at the next turn.
        .catch(() => undefined)
      // Every start has its reply (or was cut), and no row is in flight.
      if (
        rows?.length === 0 &&
        this.runs.every(
          (run) => run.reply !== undefined || run.cut !== undefined
        )
      ) {
        return Date.now()
      }
      if (Date.now() > deadline) {
        return undefined
      }
      for (const row of rows ?? []) {
        const run = this.byTransaction.get(row.transaction_id)
        if (
          run &&
          row.answerable &&
          !this.drainAnswered.has(run.transactionId)
        ) {
          this.drainAnswered.add(run.transactionId)
          void this.answer(run)
        }
      }
      await pause(POLL_MS)
    }
  }

  private async clientLoop(
    slot: InstanceSlot,
    loop: number,
    settleBy: number
  ): Promise<void> {
    const maxRuns = this.config.loadSeconds * MAX_RUNS_PER_LOOP_PER_SECOND
    for (let n = 1; n <= maxRuns; n++) {
      const instance = await slot.running()
      if (Date.now() >= this.loadEndsAt) {
        return
      }
      const workflowId = this.pickWorkflow()
      const run: SoakRun = {
        transactionId: `${slot.name}-${loop}-${n}-${workflowId.replace("soak-", "")}`,
        workflowId,
        slot: slot.name,
        instance: instance.name,
        sentAt: Date.now(),
        answerSentTo: [],
      }
      this.runs.push(run)
      this.byTransaction.set(run.transactionId, run)
      try {
        run.reply = await this.send<RunReply>(
          "run",
          instance,
          { run: { workflowId, transactionId: run.transactionId } },
          workflowId
        )
        run.repliedAt = Date.now()
      } catch (error) {
        run.cut = messageOf(error)
        run.cutAt = Date.now()
        continue
      }
      if (!isAcknowledged(run)) {
        continue
      }
      if (FINISHED_STATES.has(run.reply.state!)) {
        run.endedAt = run.repliedAt
        continue
      }
      if (workflowId === SOAK_WF.answered) {
        await pause(this.between(...ANSWER_DELAY_MS))
        await this.answer(run)
      }
      await this.ended(run.transactionId, settleBy)
    }
  }

  /** setStepSuccess from an instance other than the one that started the run, sent again while kills cut it. */
  private async answer(run: SoakRun): Promise<void> {
    for (let attempt = 1; attempt <= ANSWER_ATTEMPTS; attempt++) {
      const others = this.slots.filter((slot) => slot.name !== run.slot)
      const up = others.filter((slot) => slot.isUp())
      const instance = await this.pick(up.length ? up : others).running()
      run.answerSentTo.push({ instance: instance.name, at: Date.now() })
      try {
        await this.send(
          "answer",
          instance,
          {
            stepSuccess: {
              workflowId: run.workflowId,
              transactionId: run.transactionId,
              stepId: ANSWERED_STEP,
            },
          },
          run.workflowId
        )
        run.answeredBy = instance.name
        run.answeredAt = Date.now()
        return
      } catch (error) {
        // Refused, not cut: the drain looks at the run's row again after the load.
        if (!CUT.test(messageOf(error))) {
          return
        }
      }
    }
  }

  private async listLoop(): Promise<void> {
    const maxCalls = Math.ceil(
      (this.config.loadSeconds * 1000) / this.config.listEveryMs
    )
    for (let n = 0; n < maxCalls && Date.now() < this.loadEndsAt; n++) {
      const up = this.slots.filter((slot) => slot.isUp())
      const instance = await this.pick(up.length ? up : this.slots).running()
      const filters = LIST_FILTERS[n % LIST_FILTERS.length]
      try {
        const reply = await this.send<ListReply>("list", instance, {
          list: { filters, config: LIST_PAGE },
        })
        if (reply.count < reply.rows || reply.rows > LIST_PAGE.take) {
          this.listMismatches.push(
            `${JSON.stringify(filters)}: ${reply.rows} rows, count ${reply.count}`
          )
        }
      } catch {
        // Recorded with its request.
      }
      await pause(this.config.listEveryMs)
    }
  }

  private async send<T>(
    kind: RequestSample["kind"],
    instance: Instance,
    command: Command,
    workflowId?: SoakWorkflow
  ): Promise<T> {
    const sentAt = Date.now()
    const sample: RequestSample = {
      kind,
      workflowId,
      instance: instance.name,
      sentAt,
      ms: 0,
    }
    this.requests.push(sample)
    try {
      const reply = await within(
        ask<T>(instance, command),
        this.config.requestTimeoutSeconds * 1000,
        `${kind} on ${instance.name}`
      )
      const thrown = (reply as RunReply | undefined)?.thrown
      if (thrown !== undefined) {
        sample.error = thrown
      }
      return reply
    } catch (error) {
      sample.error = messageOf(error)
      throw error
    } finally {
      sample.ms = Date.now() - sentAt
    }
  }

  /** Resolves once the harness saw the run's row finished or deleted, or at the deadline. */
  private ended(transactionId: string, deadline: number): Promise<void> {
    return new Promise((resolve) =>
      this.ending.set(transactionId, { deadline, resolve })
    )
  }

  private async pollEnds(): Promise<void> {
    const ids = [...this.ending.keys()]
    if (ids.length === 0) {
      return
    }
    const rows = await this.db
      .query<{ transaction_id: string }>(
        `SELECT transaction_id FROM workflow_execution
          WHERE transaction_id = ANY($1) AND state IN (${FINISHED_STATES_SQL})
         UNION ALL
         SELECT transaction_id FROM soak_deleted WHERE transaction_id = ANY($1)`,
        [ids]
      )
      // The database is being restarted: the next poll asks again.
      .catch(() => [])
    const now = Date.now()
    for (const { transaction_id } of rows) {
      this.byTransaction.get(transaction_id)!.endedAt ??= now
    }
    const ended = new Set(rows.map((row) => row.transaction_id))
    for (const [id, { deadline, resolve }] of this.ending) {
      if (ended.has(id) || now > deadline) {
        this.ending.delete(id)
        resolve()
      }
    }
  }

  private sampleInFlight(): void {
    // The load's own: after its end, loops only wait for their last runs.
    if (Date.now() >= this.loadEndsAt) {
      return
    }
    const bySlot: Record<string, number> = Object.fromEntries(
      this.slots.map((slot) => [slot.name, 0])
    )
    for (const run of this.runs) {
      if (
        run.cut === undefined &&
        run.endedAt === undefined &&
        run.reply?.thrown === undefined
      ) {
        bySlot[run.slot]++
      }
    }
    this.inFlight.push({ at: Date.now(), bySlot })
  }

  private pickWorkflow(): SoakWorkflow {
    let roll = this.random()
    for (const [workflowId, share] of WORKFLOW_MIX) {
      roll -= share
      if (roll < 0) {
        return workflowId
      }
    }
    return WORKFLOW_MIX[0][0]
  }

  private pick<T>(items: T[]): T {
    return items[Math.floor(this.random() * items.length)]
  }

  private between(min: number, max: number): number {
    return min + this.random() * (max - min)
  }
}
