/**
 * The soak as a command: `npm run soak -- --minutes 2` (the figures in
 * RELIABILITY.md). Every knob of SoakConfig can be given as `--<name> <value>`
 * (`--loopsPerInstance 24`, `--killEverySeconds 10`, `--seed 7`); `--minutes`
 * sets loadSeconds. Prints the figures as Markdown, `--json <file>` writes
 * the whole report, and the exit code is 1 when the soak found anything wrong.
 */
import fs from "fs"
import { runSoak } from "./soak"
import { DEFAULT_SOAK, SoakConfig } from "./soak-config"
import { formatReport, soakPassed } from "./soak-report"

function parseArgs(argv: string[]): { config: SoakConfig; json?: string } {
  const config: SoakConfig = { ...DEFAULT_SOAK }
  let json: string | undefined
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]]
    const name = flag?.replace(/^--/, "")
    if (name === "json" && value) {
      json = value
      continue
    }
    const number = Number(value)
    if (
      !flag?.startsWith("--") ||
      value === undefined ||
      !Number.isFinite(number) ||
      number < 0
    ) {
      throw new Error(
        `soak: "${flag} ${value ?? ""}" is not "--<knob> <number>" (knobs: minutes, json, ${Object.keys(DEFAULT_SOAK).join(", ")})`
      )
    }
    if (name === "minutes") {
      config.loadSeconds = Math.round(number * 60)
    } else if (name && name in DEFAULT_SOAK) {
      config[name as keyof SoakConfig] = number
    } else {
      throw new Error(
        `soak: unknown knob --${name} (knobs: minutes, json, ${Object.keys(DEFAULT_SOAK).join(", ")})`
      )
    }
  }
  return { config, json }
}

async function main() {
  const { config, json } = parseArgs(process.argv.slice(2))
  const started = Date.now()
  const report = await runSoak(config, (line) =>
    console.log(
      `[soak +${Math.round((Date.now() - started) / 1000)} s] ${line}`
    )
  )
  console.log(formatReport(report))
  if (json) {
    fs.writeFileSync(json, JSON.stringify(report, null, 2))
  }
  process.exit(soakPassed(report) ? 0 : 1)
}

main().catch((error) => {
  console.error(error)
  process.exit(2)
})
