import { Logger } from "@medusajs/framework/types"
import { MedusaError } from "@medusajs/framework/utils"
import { readFileSync } from "fs"
import path from "path"

/**
 * The Medusa releases this module is tested on: every patch from `OLDEST` up
 * to, not including, `FIRST_UNTESTED`. package.json's peer ranges say the same
 * (a spec holds them together), and `npm run test:compat` runs the module and
 * HTTP suites on any of them.
 */
export const SUPPORTED_MEDUSA = {
  oldest: "2.19.0",
  firstUntested: "2.22.0",
} as const

export const SUPPORTED_MEDUSA_RANGE = `>=${SUPPORTED_MEDUSA.oldest} <${SUPPORTED_MEDUSA.firstUntested}`

/** The `major.minor.patch` of a version, its pre-release tag ignored. */
export function versionParts(version: string): [number, number, number] {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version)
  if (!match) {
    throw new Error(`"${version}" is not a version`)
  }
  return [Number(match[1]), Number(match[2]), Number(match[3])]
}

export function compareVersions(a: string, b: string): number {
  const [left, right] = [versionParts(a), versionParts(b)]
  for (let i = 0; i < 3; i++) {
    if (left[i] !== right[i]) {
      return left[i] - right[i]
    }
  }
  return 0
}

export function isSupportedMedusa(version: string): boolean {
  return (
    compareVersions(version, SUPPORTED_MEDUSA.oldest) >= 0 &&
    compareVersions(version, SUPPORTED_MEDUSA.firstUntested) < 0
  )
}

/** The version of the `@medusajs/framework` the store runs (its package.json is not exported, so read beside its entry). */
export function installedMedusaVersion(): string {
  const entry = require.resolve("@medusajs/framework")
  let directory = path.dirname(entry)
  while (path.basename(directory) !== "framework") {
    const parent = path.dirname(directory)
    if (parent === directory) {
      throw new Error(`No package.json above ${entry}`)
    }
    directory = parent
  }
  return JSON.parse(readFileSync(path.join(directory, "package.json"), "utf8"))
    .version
}

const README = 'see the README\'s "Medusa versions"'

/**
 * The start-up check. A Medusa older than the range lacks what the engine is
 * tested to rely on, so the module refuses to start; a newer one is untested
 * but most likely fine, so the store is told once and the engine starts.
 */
export function checkMedusaVersion(version: string, logger: Logger): void {
  if (isSupportedMedusa(version)) {
    return
  }
  const said = `medusa-workflow-engine-postgres supports Medusa ${SUPPORTED_MEDUSA_RANGE}; this store runs @medusajs/framework ${version}`
  if (compareVersions(version, SUPPORTED_MEDUSA.oldest) < 0) {
    throw new MedusaError(
      MedusaError.Types.INVALID_DATA,
      `${said}. Upgrade Medusa, or use Medusa's own workflow engine (${README}).`
    )
  }
  logger.warn(
    `${said}, newer than any it was tested on. The engine starts anyway (${README} for how a version is checked).`
  )
}
