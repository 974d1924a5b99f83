/**
 * `npm run test:compat -- <version>...`: proves the plugin on a Medusa other
 * than the one the repository pins. For each version it copies the checkout
 * into a scratch folder, pins every `@medusajs/*` package (and the admin's
 * `@medusajs/ui`) to that release, installs, type-checks the plugin against
 * that release's types, builds it, and runs the module and HTTP suites.
 *
 * A version is `2.20.1`, a line like `2.20.x`, `oldest` or `newest` (of the
 * supported range), or `all` (every release in the range). A version the
 * checkout already runs is skipped: `npm test` covers it.
 */
import { execFileSync, spawnSync } from "child_process"
import { createHash } from "crypto"
import fs from "fs"
import os from "os"
import path from "path"
import {
  compareVersions,
  installedMedusaVersion,
  isSupportedMedusa,
  SUPPORTED_MEDUSA,
  SUPPORTED_MEDUSA_RANGE,
} from "../../src/modules/workflow-engine/medusa-versions"

const CHECKOUT = path.resolve(__dirname, "../..")
const SUITES = ["integration-tests/modules", "integration-tests/http"]
const NOT_COPIED = new Set(["node_modules", ".medusa", ".git"])
const JEST_NODE_OPTIONS =
  "--experimental-vm-modules --no-warnings=ExperimentalWarning"

function npmView(spec: string, field: string): string[] {
  const out = execFileSync("npm", ["view", spec, field, "--json"], {
    encoding: "utf8",
  }).trim()
  if (!out) {
    return []
  }
  const value: unknown = JSON.parse(out)
  return (Array.isArray(value) ? value : [value]).map(String)
}

const released = (range: string) =>
  npmView(`@medusajs/framework@${range}`, "version")
    .filter((version) => !version.includes("-"))
    .sort(compareVersions)

function resolveVersions(wanted: string): string[] {
  if (wanted === "oldest") {
    return [SUPPORTED_MEDUSA.oldest]
  }
  if (wanted === "newest") {
    return released(SUPPORTED_MEDUSA_RANGE).slice(-1)
  }
  if (wanted === "all") {
    return released(SUPPORTED_MEDUSA_RANGE)
  }
  const found = released(wanted).slice(-1)
  if (!found.length) {
    throw new Error(
      `test:compat: no release of @medusajs/framework matches "${wanted}"`
    )
  }
  return found
}

/** One scratch folder per checkout and version: the same path each time, so its test database (named after the path) is reused, not left behind. */
function scratchFor(version: string): string {
  const checkout = createHash("sha1").update(CHECKOUT).digest("hex").slice(0, 8)
  return path.join(os.tmpdir(), `medusa-wep-compat-${checkout}`, version)
}

/**
 * A fresh copy every time, node_modules included: npm resolving a new
 * manifest over a tree it installed before, without that tree's lockfile,
 * left it broken (a dependency's nested copy gone).
 */
function copyCheckout(scratch: string): void {
  fs.rmSync(scratch, { recursive: true, force: true })
  fs.mkdirSync(scratch, { recursive: true })
  fs.cpSync(CHECKOUT, scratch, {
    recursive: true,
    filter: (source) => !NOT_COPIED.has(path.basename(source)),
  })
  fs.rmSync(path.join(scratch, "package-lock.json"), { force: true })
}

/** Pins what moves with Medusa's releases; everything else stays as the checkout pins it. */
function pinMedusa(scratch: string, version: string): void {
  const file = path.join(scratch, "package.json")
  const manifest = JSON.parse(fs.readFileSync(file, "utf8"))
  const pinned = installedMedusaVersion()
  const [ui] = npmView(
    `@medusajs/dashboard@${version}`,
    "dependencies.@medusajs/ui"
  )
  const dependencies = manifest.devDependencies
  for (const name of Object.keys(dependencies)) {
    if (name.startsWith("@medusajs/") && dependencies[name] === pinned) {
      dependencies[name] = version
    }
  }
  if (ui) {
    dependencies["@medusajs/ui"] = ui
  }
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`)
}

function step(
  scratch: string,
  what: string,
  command: string,
  args: string[],
  env = {}
): void {
  console.log(`\ntest:compat: ${what}`)
  const { status } = spawnSync(command, args, {
    cwd: scratch,
    stdio: "inherit",
    env: { ...process.env, ...env },
  })
  if (status !== 0) {
    throw new Error(`test:compat: ${what} failed (exit ${status})`)
  }
}

function runOn(version: string): void {
  const scratch = scratchFor(version)
  console.log(`\ntest:compat: Medusa ${version} in ${scratch}`)
  copyCheckout(scratch)
  pinMedusa(scratch, version)
  step(scratch, `installing Medusa ${version}`, "npm", [
    "install",
    "--no-audit",
    "--no-fund",
  ])
  const installed = execFileSync(
    "node",
    [
      "-p",
      `require("./node_modules/@medusajs/framework/package.json").version`,
    ],
    { cwd: scratch, encoding: "utf8" }
  ).trim()
  if (installed !== version) {
    throw new Error(
      `test:compat: asked for Medusa ${version}, npm installed ${installed}`
    )
  }
  step(scratch, "type-checking the plugin against its types", "npx", [
    "tsc",
    "--noEmit",
    "-p",
    "tsconfig.json",
  ])
  step(scratch, "building the plugin", "npm", ["run", "build"])
  step(
    scratch,
    `module and HTTP suites on Medusa ${version}`,
    "npx",
    ["jest", "--runInBand", ...SUITES],
    { NODE_OPTIONS: JEST_NODE_OPTIONS }
  )
  console.log(`\ntest:compat: Medusa ${version} passed`)
}

function main(): void {
  const wanted = process.argv.slice(2)
  if (!wanted.length) {
    throw new Error(
      "test:compat: name a version: `npm run test:compat -- 2.20.1` (or 2.20.x, oldest, newest, all)"
    )
  }
  const pinned = installedMedusaVersion()
  const versions = [...new Set(wanted.flatMap(resolveVersions))]
  for (const version of versions) {
    if (version === pinned) {
      console.log(
        `test:compat: Medusa ${version} is the one this checkout runs; npm test covers it`
      )
      continue
    }
    if (!isSupportedMedusa(version)) {
      console.log(
        `test:compat: ${version} is outside the supported range ${SUPPORTED_MEDUSA_RANGE}; trying it anyway`
      )
    }
    runOn(version)
  }
}

main()
