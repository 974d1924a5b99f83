import { FINISHED_STATES } from "../../src/modules/workflow-engine/transaction-states"
import { SoakDatabase } from "./soak-database"
import { Fault, SoakRun } from "./soak-records"

export type Row = {
  transaction_id: string
  workflow_id: string
  state: string
  errors:
    { action?: string; error?: { message?: string; name?: string } }[] | null
  steps: Record<string, { invoke: { state: string; status: string } }>
  owner_instance_id: string | null
  updated_ms: number
}
export type Deleted = {
  transaction_id: string
  state: string
  updated_ms: number
  deleted_ms: number
  expired: boolean
}
export type LogEntry = {
  kind: string
  key: string
  step: string | null
  attempt: number | null
  instance: string
  at_ms: number
}
type TimerEvent = {
  op: string
  kind: string
  transaction_id: string
  due_ms: number
  claimed_by: string | null
  at_ms: number
}

const epochMs = (column: string) =>
  `(EXTRACT(EPOCH FROM ${column}) * 1000)::float8`
export const groupBy = <T>(items: T[], key: (item: T) => string) => {
  const groups = new Map<string, T[]>()
  items.forEach((item) =>
    groups.set(key(item), [...(groups.get(key(item)) ?? []), item])
  )
  return groups
}

/**
 * What the database holds once the soak is over: the rows, the deletions,
 * every step invocation, every timer write, and which process each engine
 * instance id was. Times are epoch ms (the database runs on this machine's clock).
 */
export class SoakEvidence {
  private constructor(
    readonly rows: Row[],
    readonly rowOf: Map<string, Row>,
    readonly deletionOf: Map<string, Deleted>,
    readonly log: LogEntry[],
    readonly logOf: Map<string, LogEntry[]>,
    private readonly timersOf: Map<string, TimerEvent[]>,
    private readonly processOfInstance: Map<string, string>,
    readonly timersLeft: number,
    private readonly faults: Fault[]
  ) {}

  static async read(
    db: SoakDatabase,
    processOfPid: Map<number, string>,
    faults: Fault[]
  ): Promise<SoakEvidence> {
    const rows = await db.query<Row>(
      `SELECT transaction_id, workflow_id, state, context -> 'errors' AS errors, execution -> 'steps' AS steps,
              owner_instance_id, ${epochMs("updated_at")} AS updated_ms
         FROM workflow_execution`
    )
    const deletions = await db.query<Deleted>(
      `SELECT transaction_id, state, ${epochMs("updated_at")} AS updated_ms, ${epochMs("deleted_at")} AS deleted_ms,
              expires_at IS NOT NULL AND expires_at <= deleted_at AS expired
         FROM soak_deleted`
    )
    const log = await db.query<LogEntry>(
      `SELECT kind, key, step, attempt, instance, ${epochMs("at")} AS at_ms FROM soak_log ORDER BY at`
    )
    const timers = await db.query<TimerEvent>(
      `SELECT op, kind, transaction_id, ${epochMs("due_at")} AS due_ms, claimed_by, ${epochMs("at")} AS at_ms
         FROM soak_timer_event ORDER BY at`
    )
    const instances = await db.query<{ id: string; pid: number }>(
      `SELECT id, pid FROM soak_instance`
    )
    const [{ left }] = await db.query(
      `SELECT count(*)::int AS left FROM workflow_execution_timer`
    )
    return new SoakEvidence(
      rows,
      new Map(rows.map((row) => [row.transaction_id, row])),
      new Map(deletions.map((deleted) => [deleted.transaction_id, deleted])),
      log,
      groupBy(log, (entry) => entry.key),
      groupBy(timers, (event) => event.transaction_id),
      new Map(
        instances.map(({ id, pid }) => [
          id,
          processOfPid.get(pid) ?? `pid ${pid}`,
        ])
      ),
      left,
      faults
    )
  }

  /** When the run's row says it ended (finished, or deleted), if it did. */
  endedMs(transactionId: string): number | undefined {
    const row = this.rowOf.get(transactionId)
    return row && FINISHED_STATES.has(row.state)
      ? row.updated_ms
      : this.deletionOf.get(transactionId)?.updated_ms
  }

  /** The processes that took part in a run: asked to start it or to answer it, or ran one of its steps. */
  processesIn(run: SoakRun): Set<string> {
    return new Set([
      run.instance,
      ...run.answerSentTo.map((answer) => answer.instance),
      ...(this.logOf.get(run.transactionId) ?? []).map(
        (entry) => entry.instance
      ),
    ])
  }

  /** The kills that landed on a process of the run, between its start request and its end. */
  killsIn(run: SoakRun): Extract<Fault, { kind: "kill" }>[] {
    const processes = this.processesIn(run)
    const ended = this.endedMs(run.transactionId) ?? Infinity
    return this.kills().filter(
      (kill) =>
        processes.has(kill.process) && kill.at >= run.sentAt && kill.at <= ended
    )
  }

  kills(): Extract<Fault, { kind: "kill" }>[] {
    return this.faults.filter(
      (fault): fault is Extract<Fault, { kind: "kill" }> =>
        fault.kind === "kill"
    )
  }

  /**
   * Everything known about one run, in order, in ms after its start request:
   * what its client was told, each step invocation (by which process), each
   * write of its timers, the kills and the database restart meanwhile, and
   * its row as the soak left it. What a report of a stuck or doubled run needs.
   */
  timeline(run: SoakRun): string {
    const at = (ms: number) => `+${Math.round(ms - run.sentAt)}`
    const events: [number, string][] = [
      [run.sentAt, `start sent to ${run.instance}`],
    ]
    if (run.repliedAt !== undefined) {
      events.push([run.repliedAt, `told ${JSON.stringify(run.reply)}`])
    }
    if (run.cut !== undefined) {
      events.push([run.cutAt!, `start cut: ${run.cut}`])
    }
    for (const answer of run.answerSentTo) {
      events.push([answer.at, `answer sent to ${answer.instance}`])
    }
    if (run.answeredBy !== undefined) {
      events.push([
        run.answeredAt!,
        `${run.answeredBy} said the answer was applied`,
      ])
    }
    for (const entry of this.logOf.get(run.transactionId) ?? []) {
      events.push([
        entry.at_ms,
        `${entry.instance} ${entry.kind} ${entry.step} attempt ${entry.attempt}`,
      ])
    }
    for (const event of this.timersOf.get(run.transactionId) ?? []) {
      const claimed = event.claimed_by
        ? ` claimed by ${this.processOfInstance.get(event.claimed_by) ?? event.claimed_by}`
        : ""
      events.push([
        event.at_ms,
        `timer ${event.kind} ${event.op.toLowerCase()} (due ${at(event.due_ms)}${claimed})`,
      ])
    }
    const processes = this.processesIn(run)
    const last = Math.max(...events.map(([ms]) => ms))
    for (const fault of this.faults.filter(
      (fault) => fault.at >= run.sentAt && fault.at <= last + 15_000
    )) {
      if (fault.kind === "kill") {
        events.push([
          fault.at,
          `kill of ${fault.process}${processes.has(fault.process) ? " (in the run)" : ""}`,
        ])
      } else {
        events.push(
          [fault.at, "database stopped"],
          [fault.back ?? fault.at, "database back"]
        )
      }
    }
    const row = this.rowOf.get(run.transactionId)
    if (row) {
      const owner = row.owner_instance_id
        ? (this.processOfInstance.get(row.owner_instance_id) ??
          row.owner_instance_id)
        : "none"
      const steps = Object.entries(row.steps ?? {})
        .filter(([id]) => id !== "_root")
        .map(
          ([id, step]) =>
            `${id.replace("_root.", "")} ${step.invoke.state}/${step.invoke.status}`
        )
      events.push([
        row.updated_ms,
        `row last written: ${row.state}, owner ${owner}, ${steps.join(", ")}`,
      ])
    }
    const deleted = this.deletionOf.get(run.transactionId)
    if (deleted) {
      events.push([deleted.deleted_ms, `row deleted while ${deleted.state}`])
    }
    return events
      .sort(([x], [y]) => x - y)
      .map(([ms, what]) => `${at(ms)} ${what}`)
      .join("; ")
  }
}
