import { runSoak, SoakReport } from "./soak"
import { DEFAULT_SOAK, SoakConfig } from "./soak-config"
import { formatReport } from "./soak-report"

/**
 * The short soak that `npm test` (and so .ci/run) runs: RELIABILITY.md's
 * soak with 75 s of load instead of 2 minutes. `npm run soak -- --minutes 2`
 * runs the long one and prints the same figures.
 */
const SHORT_SOAK: SoakConfig = { ...DEFAULT_SOAK, loadSeconds: 75, settleSeconds: 90 }
// Start of 3 processes and a Postgres, the load, the settle deadline, the checks.
jest.setTimeout(8 * 60 * 1000)

describe("a soak of 3 engine processes: ≥ 16 runs in flight each, one SIGKILLed every ~15 s, the database restarted once", () => {
  let report: SoakReport

  beforeAll(async () => {
    report = await runSoak(SHORT_SOAK)
    // The figures, as RELIABILITY.md gives them for the short soak.
    process.stdout.write(`\n${formatReport(report)}\n`)
  })

  it("lands every planned fault while every instance has at least 16 runs in flight", () => {
    expect(report.kills).toBe(report.plan.killsAtMs.length)
    expect(report.kills).toBeGreaterThanOrEqual(4)
    expect(report.dbRestarts).toBe(1)
    expect(report.instanceRestarts).toBe(report.kills)
    for (const median of Object.values(report.inFlightMedian)) {
      expect(median).toBeGreaterThanOrEqual(16)
    }
    // The kills hit runs in flight: recovery had work to do.
    expect(report.verdict.runsWithACrash).toBeGreaterThan(0)
  })

  it("loses no run it told started: each has its row, or was removed by its own retention", () => {
    expect(report.verdict.acknowledged).toBeGreaterThan(0)
    expect(report.verdict.removedByRetention).toBeGreaterThan(0)
    expect(report.verdict.lost).toEqual([])
  })

  it("leaves no run in flight and no timer once the load is over", () => {
    expect(report.verdict.stuck).toEqual([])
    expect(report.verdict.timersLeft).toBe(0)
  })

  it("invokes no step twice in a run no kill touched, and ticks no cron second twice", () => {
    expect(report.verdict.duplicatedSteps).toEqual([])
    expect(report.verdict.duplicatedTicks).toEqual([])
    expect(report.verdict.ticks.ticked).toBeGreaterThan(SHORT_SOAK.loadSeconds / 2)
  })

  it("gives every failure a reason, and ends every run no kill touched as its workflow does", () => {
    expect(report.verdict.failuresWithoutReason).toEqual([])
    expect(report.verdict.unexpectedOutcomes).toEqual([])
    expect(report.listMismatches).toEqual([])
  })
})
