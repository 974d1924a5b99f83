import { MedusaError } from "@medusajs/framework/utils"
import fs from "fs"
import path from "path"
import {
  checkMedusaVersion,
  installedMedusaVersion,
  isSupportedMedusa,
  SUPPORTED_MEDUSA,
  SUPPORTED_MEDUSA_RANGE,
} from "../../src/modules/workflow-engine/medusa-versions"
import { recordingLogger } from "./__fixtures__/engine"

const ROOT = path.join(__dirname, "../..")
const manifest = JSON.parse(
  fs.readFileSync(path.join(ROOT, "package.json"), "utf8")
)

describe("the Medusa versions this module supports", () => {
  it("are what package.json's peer ranges say, for every Medusa package a store installs", () => {
    const medusaPeers = Object.entries(
      manifest.peerDependencies as Record<string, string>
    ).filter(
      ([name]) => name.startsWith("@medusajs/") && name !== "@medusajs/ui"
    )
    expect(medusaPeers.map(([name]) => name).sort()).toEqual([
      "@medusajs/admin-sdk",
      "@medusajs/framework",
      "@medusajs/icons",
      "@medusajs/js-sdk",
      "@medusajs/medusa",
    ])
    for (const [, range] of medusaPeers) {
      expect(range).toBe(SUPPORTED_MEDUSA_RANGE)
    }
  })

  it("include the Medusa this checkout runs, and the README names the range and the compat command", () => {
    expect(isSupportedMedusa(installedMedusaVersion())).toBe(true)
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8")
    expect(readme).toContain(SUPPORTED_MEDUSA_RANGE)
    expect(readme).toContain("npm run test:compat --")
  })

  it("hold every patch from the oldest up to the first untested minor", () => {
    const cases: [string, boolean][] = [
      ["2.18.9", false],
      [SUPPORTED_MEDUSA.oldest, true],
      ["2.20.1", true],
      ["2.21.9", true],
      ["2.21.3-rc.1", true],
      [SUPPORTED_MEDUSA.firstUntested, false],
      ["3.0.0", false],
    ]
    expect(
      cases.map(([version]) => [version, isSupportedMedusa(version)])
    ).toEqual(cases)
  })

  it("refuse to start on an older Medusa with one message naming its version and the range", () => {
    const logger = recordingLogger()
    let refusal: unknown
    try {
      checkMedusaVersion("2.18.3", logger)
    } catch (error) {
      refusal = error
    }
    expect(refusal).toBeInstanceOf(MedusaError)
    expect((refusal as MedusaError).type).toBe(MedusaError.Types.INVALID_DATA)
    expect((refusal as Error).message).toContain("@medusajs/framework 2.18.3")
    expect((refusal as Error).message).toContain(SUPPORTED_MEDUSA_RANGE)
    expect(logger.warnings).toEqual([])
  })

  it("start on a newer Medusa, saying once that it is untested", () => {
    const logger = recordingLogger()
    checkMedusaVersion("2.22.0", logger)
    expect(logger.warnings).toHaveLength(1)
    expect(logger.warnings[0]).toContain("@medusajs/framework 2.22.0")
    expect(logger.warnings[0]).toContain(SUPPORTED_MEDUSA_RANGE)
  })

  it("say nothing on a supported one", () => {
    const logger = recordingLogger()
    checkMedusaVersion(installedMedusaVersion(), logger)
    checkMedusaVersion(SUPPORTED_MEDUSA.oldest, logger)
    expect([logger.warnings, logger.errors]).toEqual([[], []])
  })
})
