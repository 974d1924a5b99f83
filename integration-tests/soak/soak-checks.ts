import {
  FAILED_STATES,
  FINISHED_STATES,
} from "../../src/modules/workflow-engine/transaction-states"
import { SOAK_WF, TIMED_OUT_STEP } from "./__fixtures__/soak-workflows-ids"
import { groupBy, Row, SoakEvidence } from "./soak-evidence"
import { isAcknowledged, RequestSample, SoakRun } from "./soak-records"

/** One thing the soak found wrong, with what a reader needs to find it again (the run's timeline). */
export type Finding = {
  transactionId?: string
  workflowId?: string
  what: string
}

export type SoakVerdict = {
  started: number
  acknowledged: number
  /** Starts whose reply was cut (the instance was killed) or never came. */
  unacknowledged: { total: number; stored: number; neverStored: number }
  /** Final states of the runs the soak started whose row is still there, by workflow. */
  outcomes: Record<string, Record<string, number>>
  removedByRetention: number
  /** Acknowledged runs with neither a row nor a deletion by their retention; rows deleted in flight or before their expiry. */
  lost: Finding[]
  /** Runs still in flight once the load was over and the settle deadline passed. */
  stuck: Finding[]
  /** A step invoked twice (same attempt) in a run no kill touched. */
  duplicatedSteps: Finding[]
  /** The same, in runs a kill touched: what recovery may do (counted, allowed). */
  duplicatedStepsAfterCrash: number
  /** A cron second run twice, its first runner not killed. */
  duplicatedTicks: Finding[]
  /** The same, with the first runner killed within a lease of its run (counted, allowed). */
  duplicatedTicksAfterCrash: number
  ticks: { ticked: number; skippedSeconds: number }
  /** Failed or reverted runs whose row gives no reason; failed requests with an empty error. */
  failuresWithoutReason: Finding[]
  /** Acknowledged runs no kill touched that did not end as their workflow does, or not as their reply said. */
  unexpectedOutcomes: Finding[]
  /** Run failures by reason, and failed requests by cause. */
  errorsByKind: Record<string, number>
  /** Runs a kill touched before they ended. */
  runsWithACrash: number
  timersLeft: number
}

/** The kind of a failure, from its message. */
export function kindOf(message: string): string {
  const kinds: [RegExp, string][] = [
    [/exited before it answered/, "request cut: its instance was killed"],
    [/not within \d+ ms/, "request unanswered within the client's deadline"],
    [/died (while|after)/, "run of a killed instance, failed by recovery"],
    [/TransactionStepTimeoutError|timed? ?out|timeout/i, "step timeout"],
    [/first attempt fails/, "first attempt failed (retried)"],
    [/could not be reached/, "database unreachable"],
    [
      /Connection terminated|Connection ended|ECONNREFUSED|shutting down|administrator command/,
      "database connection lost (the restart)",
    ],
    [
      /was refused: the run was taken over/,
      "write refused by the fence (the run was taken over)",
    ],
    [/already started/i, "transaction already started"],
    [
      /Already finished by another execution/,
      "refused: the run was already finished by another execution",
    ],
    [
      /Cannot set step success.*is not waiting/,
      "answer refused: the step no longer waits",
    ],
    [
      /Cannot set step success.*(has already finished|was already answered)/,
      "answer refused: already applied (an answer cut by a kill went through)",
    ],
  ]
  return (
    kinds.find(([pattern]) => pattern.test(message))?.[1] ??
    `other: ${message.slice(0, 100)}`
  )
}

const increment = (counts: Record<string, number>, key: string) =>
  (counts[key] = (counts[key] ?? 0) + 1)
// Medusa stores a step timeout by its name alone (TransactionStepTimeoutError has no message): the name is the reason.
const reasonOf = (entry: NonNullable<Row["errors"]>[number]) =>
  entry.error?.message ||
  (entry.error?.name === "Error" ? "" : entry.error?.name) ||
  ""

/** What the database holds after the soak, checked against what its clients were told. */
export function checkSoak(
  evidence: SoakEvidence,
  runs: SoakRun[],
  requests: RequestSample[],
  leaseMs: number
): SoakVerdict {
  const verdict: SoakVerdict = {
    started: runs.length,
    acknowledged: 0,
    unacknowledged: { total: 0, stored: 0, neverStored: 0 },
    outcomes: {},
    removedByRetention: 0,
    lost: [],
    stuck: [],
    duplicatedSteps: [],
    duplicatedStepsAfterCrash: 0,
    duplicatedTicks: [],
    duplicatedTicksAfterCrash: 0,
    ticks: { ticked: 0, skippedSeconds: 0 },
    failuresWithoutReason: [],
    unexpectedOutcomes: [],
    errorsByKind: {},
    runsWithACrash: 0,
    timersLeft: evidence.timersLeft,
  }
  const byTransaction = new Map(runs.map((run) => [run.transactionId, run]))
  const failedRequests = requests.filter((sample) => sample.error !== undefined)

  for (const run of runs) {
    const row = evidence.rowOf.get(run.transactionId)
    const deleted = evidence.deletionOf.get(run.transactionId)
    const acknowledged = isAcknowledged(run)
    const crashed = evidence.killsIn(run).length > 0
    const found = (what: string): Finding => ({
      transactionId: run.transactionId,
      workflowId: run.workflowId,
      what: `${what}. Timeline: ${evidence.timeline(run)}`,
    })
    verdict.runsWithACrash += crashed ? 1 : 0
    if (acknowledged) {
      verdict.acknowledged++
    } else {
      verdict.unacknowledged.total++
      verdict.unacknowledged[row || deleted ? "stored" : "neverStored"]++
    }

    if (deleted) {
      if (FINISHED_STATES.has(deleted.state) && deleted.expired) {
        verdict.removedByRetention++
      } else {
        verdict.lost.push(
          found(
            `its row was deleted while ${deleted.state}${deleted.expired ? "" : ", before its expiry"}`
          )
        )
      }
      continue
    }
    if (!row) {
      if (acknowledged) {
        verdict.lost.push(
          found("told started, but there is no row and no deletion")
        )
      }
      continue
    }

    increment((verdict.outcomes[run.workflowId] ??= {}), row.state)
    if (!FINISHED_STATES.has(row.state)) {
      verdict.stuck.push(found(`still ${row.state}`))
      continue
    }
    if (FAILED_STATES.has(row.state)) {
      const reasons = (row.errors ?? []).map(reasonOf)
      if (
        reasons.length === 0 ||
        reasons.some((reason) => reason.trim() === "")
      ) {
        verdict.failuresWithoutReason.push(
          found(`${row.state} with errors ${JSON.stringify(row.errors)}`)
        )
      }
      reasons
        .filter(Boolean)
        .forEach((reason) =>
          increment(verdict.errorsByKind, `run ${row.state}: ${kindOf(reason)}`)
        )
    }
    if (acknowledged && !crashed) {
      const unexpected = unexpectedOutcome(run.workflowId, row)
      if (unexpected) {
        verdict.unexpectedOutcomes.push(found(unexpected))
      }
      if (
        FINISHED_STATES.has(run.reply!.state!) &&
        run.reply!.state !== row.state
      ) {
        verdict.unexpectedOutcomes.push(
          found(`its reply said ${run.reply!.state}, its row says ${row.state}`)
        )
      }
    }
  }

  for (const row of evidence.rows) {
    if (
      !byTransaction.has(row.transaction_id) &&
      !FINISHED_STATES.has(row.state)
    ) {
      verdict.stuck.push({
        transactionId: row.transaction_id,
        workflowId: row.workflow_id,
        what: `still ${row.state}, not started by the soak's clients`,
      })
    }
  }

  const invocations = groupBy(
    evidence.log.filter((entry) => entry.kind !== "tick"),
    (entry) =>
      `${entry.key} ${entry.kind} ${entry.step} attempt ${entry.attempt}`
  )
  for (const [invocation, entries] of invocations) {
    if (entries.length < 2) {
      continue
    }
    const run = byTransaction.get(entries[0].key)
    if (run && evidence.killsIn(run).length > 0) {
      verdict.duplicatedStepsAfterCrash++
      continue
    }
    verdict.duplicatedSteps.push({
      transactionId: entries[0].key,
      workflowId: run?.workflowId,
      what: `${invocation} ran ${entries.length} times${run ? `. Timeline: ${evidence.timeline(run)}` : ""}`,
    })
  }

  const ticks = groupBy(
    evidence.log.filter((entry) => entry.kind === "tick"),
    (entry) => entry.key
  )
  for (const [second, [first, ...again]] of ticks) {
    if (again.length === 0) {
      continue
    }
    const runnerKilled = evidence
      .kills()
      .some(
        (kill) =>
          kill.process === first.instance &&
          kill.at >= first.at_ms &&
          kill.at <= first.at_ms + leaseMs
      )
    if (runnerKilled) {
      verdict.duplicatedTicksAfterCrash++
    } else {
      const runners = [first, ...again].map(
        (entry) => `${entry.instance} at ${new Date(entry.at_ms).toISOString()}`
      )
      verdict.duplicatedTicks.push({
        what: `cron second ${second} ran ${again.length + 1} times: ${runners.join(", ")}`,
      })
    }
  }
  const seconds = [...ticks.keys()]
    .map((key) => Date.parse(key) / 1000)
    .sort((x, y) => x - y)
  verdict.ticks = {
    ticked: seconds.length,
    skippedSeconds: seconds.length
      ? seconds[seconds.length - 1] - seconds[0] + 1 - seconds.length
      : 0,
  }

  for (const { kind, instance, error } of failedRequests) {
    if (error!.trim() === "") {
      verdict.failuresWithoutReason.push({
        what: `a ${kind} request to ${instance} failed with an empty error`,
      })
    }
    increment(verdict.errorsByKind, `${kind} request: ${kindOf(error!)}`)
  }
  return verdict
}

/** How a run no kill touched must end; undefined when it did. */
function unexpectedOutcome(workflowId: string, row: Row): string | undefined {
  if (workflowId === SOAK_WF.timeout) {
    const step = row.steps?.[`_root.${TIMED_OUT_STEP}`]
    return FAILED_STATES.has(row.state) && step?.invoke.state === "timeout"
      ? undefined
      : `ended ${row.state} with its step ${step?.invoke.state}, not by its step's timeout`
  }
  return row.state === "done"
    ? undefined
    : `ended ${row.state}: ${JSON.stringify(row.errors)}`
}
