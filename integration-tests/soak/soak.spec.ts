import { runSoak } from "./soak"
import { DEFAULT_SOAK } from "./soak-config"
import { formatReport, soakPassed } from "./soak-report"

// 75 s of load, a 90 s deadline for every run to end, and the start and stop of a throwaway Postgres and its processes.
jest.setTimeout(8 * 60 * 1000)

/*
 * The short soak (RELIABILITY.md): three engine processes under load, one
 * SIGKILLed every ~15 s and replaced, the database restarted once; then no
 * run lost or stuck, no step of a run no kill touched invoked twice, no cron
 * second ticked twice, every failure with a reason. The same as
 * `npm run soak -- --loadSeconds 75 --settleSeconds 90`; on a failure the
 * report, with each finding's timeline, is the error.
 */
describe("a soak with faults: three instances, kills every ~15 s, a database restart", () => {
  it("loses no run, leaves none stuck, runs no step or cron second twice, and gives every failure a reason", async () => {
    const started = Date.now()
    const report = await runSoak(
      { ...DEFAULT_SOAK, loadSeconds: 75, settleSeconds: 90 },
      (line) =>
        process.stdout.write(
          `[soak +${Math.round((Date.now() - started) / 1000)} s] ${line}\n`
        )
    )
    const figures = formatReport(report)
    if (!soakPassed(report)) {
      throw new Error(
        `the soak found something wrong (each engine process's output: ${report.logDir}):\n${figures}`
      )
    }
    process.stdout.write(`${figures}\n`)
    expect(report.kills).toBeGreaterThanOrEqual(4)
    expect(report.dbRestarts).toBe(1)
    expect(report.verdict.acknowledged).toBeGreaterThan(0)
  })
})
