import { SoakReport } from "./soak"

const ms = (value: number | undefined) =>
  value === undefined ? "–" : `${value}`

/** The soak's figures as Markdown, as RELIABILITY.md shows them. */
export function formatReport(report: SoakReport): string {
  const { config, verdict } = report
  const lines = [
    `Soak: ${config.instances} instances, ${config.loopsPerInstance} client loops each, ${report.loadSeconds} s of load ` +
      `(seed ${config.seed}, lease ${config.leaseMs} ms, a kill every ~${config.killEverySeconds} s, ` +
      `database down ${config.dbOutageSeconds} s once)`,
    "",
    "| figure | value |",
    "| --- | --- |",
    `| runs started | ${verdict.started} (${report.runsPerSecond}/s) |`,
    `| told started (acknowledged) | ${verdict.acknowledged} |`,
    `| start cut or unanswered | ${verdict.unacknowledged.total} (${verdict.unacknowledged.stored} with a row, ${verdict.unacknowledged.neverStored} never stored) |`,
    `| runs a kill touched | ${verdict.runsWithACrash} |`,
    `| runs in flight per instance (median) | ${Object.entries(
      report.inFlightMedian
    )
      .map(([slot, n]) => `${slot}: ${n}`)
      .join(", ")} |`,
    `| kills (SIGKILL) | ${report.kills} |`,
    `| instance restarts | ${report.instanceRestarts} |`,
    `| database restarts | ${report.dbRestarts} |`,
    `| removed by their own retention | ${verdict.removedByRetention} |`,
    `| **lost** | **${verdict.lost.length}** |`,
    `| **stuck** (in flight ${config.settleSeconds} s after the load) | **${verdict.stuck.length}** |`,
    `| **steps invoked twice, no kill in the run** | **${verdict.duplicatedSteps.length}** |`,
    `| steps invoked twice in a run a kill touched | ${verdict.duplicatedStepsAfterCrash} |`,
    `| **cron seconds ticked twice** | **${verdict.duplicatedTicks.length}** (${verdict.duplicatedTicksAfterCrash} after their runner was killed) |`,
    `| cron seconds ticked / skipped | ${verdict.ticks.ticked} / ${verdict.ticks.skippedSeconds} |`,
    `| **failures without a reason** | **${verdict.failuresWithoutReason.length}** |`,
    `| **unexpected outcomes** (no kill in the run) | **${verdict.unexpectedOutcomes.length}** |`,
    `| timers left | ${verdict.timersLeft} |`,
    `| leases found run out by a live instance (a pause, or the database away longer than a lease) | ${report.leasesLostWhileAlive} |`,
    `| writes refused by the fence | ${report.fencedWrites} |`,
    `| every run ended | ${report.settleSeconds === undefined ? `not within ${config.settleSeconds} s` : `${report.settleSeconds} s`} after the load |`,
    "",
    "Outcomes by workflow:",
    "",
    ...Object.entries(verdict.outcomes).map(
      ([workflow, states]) =>
        `- ${workflow}: ${Object.entries(states)
          .map(([state, n]) => `${state} ${n}`)
          .join(", ")}`
    ),
    "",
    "Errors by kind:",
    "",
    "| kind | count |",
    "| --- | --- |",
    ...Object.entries(verdict.errorsByKind)
      .sort(([, x], [, y]) => y - x)
      .map(([kind, n]) => `| ${kind.replace(/\|/g, "\\|")} | ${n} |`),
    "",
    "p99 latency (ms) of the requests sent in each stretch: during a fault = until the replacement process is ready or " +
      "the database is up again; after = until the next fault (failed requests not counted):",
    "",
    "| stretch | s | requests | failed | sync run | async start | answer | admin list |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...report.latency.map(
      (w) =>
        `| ${w.label} | ${w.fromS}–${w.toS} | ${w.requests} | ${w.failed} | ${ms(w.p99Ms["sync run"])} | ` +
        `${ms(w.p99Ms["async start"])} | ${ms(w.p99Ms.answer)} | ${ms(w.p99Ms.list)} |`
    ),
    "",
    `Each engine process's output: ${report.logDir}`,
    "",
    "Takeover after each kill (the runs the killed process had told started and were in flight, until all ended):",
    "",
    ...report.takeover.map(
      (t) =>
        `- ${t.process}: ${t.runs} runs, ${t.ms === undefined ? "–" : `${(t.ms / 1000).toFixed(1)} s`}`
    ),
  ]
  const findings = [
    ["Lost", verdict.lost],
    ["Stuck", verdict.stuck],
    ["Steps invoked twice", verdict.duplicatedSteps],
    ["Ticks twice", verdict.duplicatedTicks],
    ["Failures without a reason", verdict.failuresWithoutReason],
    ["Unexpected outcomes", verdict.unexpectedOutcomes],
  ] as const
  for (const [title, list] of findings) {
    if (list.length) {
      lines.push(
        "",
        `${title}:`,
        ...list.map(
          (f) => `- ${f.workflowId ?? ""} ${f.transactionId ?? ""}: ${f.what}`
        )
      )
    }
  }
  if (report.listMismatches.length) {
    lines.push(
      "",
      "List totals below their page:",
      ...report.listMismatches.map((m) => `- ${m}`)
    )
  }
  return lines.join("\n")
}

/** Whether the soak found nothing wrong: what the test asserts and the command's exit code says. */
export function soakPassed(report: SoakReport): boolean {
  const { verdict } = report
  return [
    verdict.lost,
    verdict.stuck,
    verdict.duplicatedSteps,
    verdict.duplicatedTicks,
    verdict.failuresWithoutReason,
    verdict.unexpectedOutcomes,
    report.listMismatches,
  ].every((list) => list.length === 0)
}
