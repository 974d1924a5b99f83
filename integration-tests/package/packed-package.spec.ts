import { execFile } from "child_process"
import fs from "fs"
import os from "os"
import path from "path"
import { promisify } from "util"
import {
  compareVersions,
  SUPPORTED_MEDUSA_RANGE,
} from "../../src/modules/workflow-engine/medusa-versions"

/**
 * The package as a store gets it: `npm pack`, then `npm install` of the
 * tarball into an empty folder, and the plugin's entry points loaded from
 * there by plain Node (Jest's resolver would map them back to the sources).
 * The store's Medusa packages are links to the repository's own, as in
 * playground/package.json, so the install needs no network: npm fetches only
 * the plugin's own dependencies, from its cache when it has them.
 */

const run = promisify(execFile)
const REPO = path.resolve(__dirname, "..", "..")
const PACKAGE_NAME = "medusa-workflow-engine-postgres"
const ALWAYS_SHIPPED = ["CHANGELOG.md", "LICENSE", "README.md", "package.json"]
const BUILT_FILE = /^\.medusa\/server\/src\/.+\.m?js$/
// What a store's TypeScript reads: the declarations of the one entry stores import from (tsconfig.types.json).
const DECLARED_FILE =
  /^\.medusa\/server\/src\/modules\/workflow-engine\/events\/[a-z-]+\.d\.ts$/

/** Whether `version` is in `range`: an exact version, `^x.y.z` or `>=low <high`, the forms the peers use. */
function inRange(version: string, range: string): boolean {
  const caret = /^\^((\d+)\.\S+)$/.exec(range)
  const bounds = caret
    ? [caret[1], `${Number(caret[2]) + 1}.0.0`]
    : /^>=(\S+) <(\S+)$/.exec(range)?.slice(1)
  if (!bounds) {
    return version === range
  }
  return (
    compareVersions(version, bounds[0]) >= 0 &&
    compareVersions(version, bounds[1]) < 0
  )
}

type ExportTarget = string | { [condition: string]: ExportTarget }

type PackageJson = {
  version: string
  exports: Record<string, ExportTarget>
  repository?: { type?: string; url?: string }
  homepage?: string
  bugs?: { url?: string }
  engines?: { node?: string }
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
  peerDependencies: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
}

const ownPackage: PackageJson = JSON.parse(
  fs.readFileSync(path.join(REPO, "package.json"), "utf8")
)

let workDir: string
let store: string
let shipped: string[]

// Every file an `exports` entry points at (a pattern's `*` kept), under all its conditions.
function exportTargets(target: ExportTarget): string[] {
  return typeof target === "string"
    ? [target]
    : Object.values(target).flatMap(exportTargets)
}

// The shipped files an `exports` target names: itself, or what its `*` matches.
function filesFor(target: string, files: string[]): string[] {
  const relative = target.replace(/^\.\//, "")
  if (!relative.includes("*")) {
    return files.filter((file) => file === relative)
  }
  const [before, after] = relative.split("*")
  return files.filter(
    (file) =>
      file.length > before.length + after.length &&
      file.startsWith(before) &&
      file.endsWith(after)
  )
}

// Runs a script with plain Node in the store folder; it prints one JSON value.
async function inStore(
  script: string,
  type: "commonjs" | "module" = "commonjs"
): Promise<any> {
  const file = path.join(store, type === "module" ? "check.mjs" : "check.cjs")
  fs.writeFileSync(file, script)
  const { stdout } = await run(process.execPath, [file], { cwd: store })
  return JSON.parse(stdout)
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(REPO, ".medusa", "server", "src"))) {
    throw new Error(
      "No .medusa/server: run `npm run build` first (`npm test` does)."
    )
  }
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), "wep-packed-package-"))
  const { stdout } = await run(
    "npm",
    ["pack", "--json", "--pack-destination", workDir],
    { cwd: REPO }
  )
  const [packed] = JSON.parse(stdout) as [
    { filename: string; files: { path: string }[] },
  ]
  shipped = packed.files.map((file) => file.path).sort()

  store = path.join(workDir, "store")
  fs.mkdirSync(store)
  const links = Object.fromEntries(
    Object.keys(ownPackage.peerDependencies).map((name) => [
      name,
      `file:${path.join(REPO, "node_modules", name)}`,
    ])
  )
  fs.writeFileSync(
    path.join(store, "package.json"),
    JSON.stringify({
      name: "packed-package-store",
      private: true,
      dependencies: {
        ...links,
        [PACKAGE_NAME]: `file:${path.join(workDir, packed.filename)}`,
      },
    })
  )
  // --legacy-peer-deps: the peers are the links above; npm 11 cannot check a
  // peer against a linked folder (it crashes in its placement code).
  await run(
    "npm",
    [
      "install",
      "--prefer-offline",
      "--legacy-peer-deps",
      "--no-audit",
      "--no-fund",
      "--no-package-lock",
    ],
    { cwd: store }
  )
})

afterAll(() => {
  if (workDir) {
    fs.rmSync(workDir, { recursive: true, force: true })
  }
})

describe("the packed package", () => {
  it("ships the built plugin, README, CHANGELOG, LICENSE and package.json, nothing else", () => {
    const unexpected = shipped.filter(
      (file) =>
        !ALWAYS_SHIPPED.includes(file) &&
        !BUILT_FILE.test(file) &&
        !DECLARED_FILE.test(file)
    )
    expect(unexpected).toEqual([])
    expect(shipped).toEqual(expect.arrayContaining(ALWAYS_SHIPPED))
    expect(shipped).toEqual(
      expect.arrayContaining([
        ".medusa/server/src/modules/workflow-engine/index.js",
        ".medusa/server/src/api/admin/workflow-engine/storage/route.js",
        ".medusa/server/src/admin/index.js",
        ".medusa/server/src/admin/index.mjs",
        // The README's command to finish the upgrade runs it by this path.
        ".medusa/server/src/scripts/finish-workflow-engine-upgrade.js",
      ])
    )
    expect(shipped.some((file) => file.includes("/migrations/Migration"))).toBe(
      true
    )
  })

  it("points every `exports` entry of the installed package.json at files the tarball holds", () => {
    const installed: PackageJson = JSON.parse(
      fs.readFileSync(
        path.join(store, "node_modules", PACKAGE_NAME, "package.json"),
        "utf8"
      )
    )
    const entries = Object.entries(installed.exports)
    expect(entries.length).toBeGreaterThan(0)
    const missing = entries.flatMap(([entry, target]) =>
      exportTargets(target)
        .filter((file) => filesFor(file, shipped).length === 0)
        .map((file) => `${entry} -> ${file}`)
    )
    expect(missing).toEqual([])
  })

  it("says where its source, home page and issues are, and which Node it runs on", () => {
    expect(ownPackage.repository).toEqual({
      type: "git",
      url: expect.stringMatching(/^git\+https:\/\/github\.com\/.+\.git$/),
    })
    const home = ownPackage.repository!.url!.replace(/^git\+|\.git$/g, "")
    expect(ownPackage.homepage).toBe(`${home}#readme`)
    expect(ownPackage.bugs).toEqual({ url: `${home}/issues` })
    expect(ownPackage.engines?.node).toEqual(expect.any(String))
  })

  it("has a CHANGELOG entry for its version that names every migration it ships", () => {
    const changelog = fs.readFileSync(
      path.join(store, "node_modules", PACKAGE_NAME, "CHANGELOG.md"),
      "utf8"
    )
    expect(changelog).toMatch(
      new RegExp(`^## ${ownPackage.version.replace(/\./g, "\\.")}\\b`, "m")
    )
    const migrations = shipped
      .map((file) => /\/migrations\/(Migration\d+)\.js$/.exec(file)?.[1])
      .filter((name): name is string => name !== undefined)
    expect(migrations.length).toBeGreaterThan(0)
    expect(migrations.filter((name) => !changelog.includes(name))).toEqual([])
  })

  it("declares every @medusajs package and the OpenTelemetry API its built code imports as a peer, a range holding its devDependency", () => {
    const imported = new Set<string>()
    for (const file of shipped.filter((name) => BUILT_FILE.test(name))) {
      const code = fs.readFileSync(path.join(REPO, file), "utf8")
      for (const [, name] of code.matchAll(
        /(?:require\(|from\s*)"(@medusajs\/[^/"]+|@opentelemetry\/api)/g
      )) {
        imported.add(name)
      }
    }
    expect(imported.size).toBeGreaterThan(0)
    for (const name of imported) {
      expect([name, ownPackage.peerDependencies[name]]).toEqual([
        name,
        expect.any(String),
      ])
    }
    for (const [name, range] of Object.entries(ownPackage.peerDependencies)) {
      const developedOn = ownPackage.devDependencies[name]
      expect([name, range, inRange(developedOn, range)]).toEqual([
        name,
        name.startsWith("@medusajs/") && name !== "@medusajs/ui"
          ? SUPPORTED_MEDUSA_RANGE
          : range,
        true,
      ])
      expect(ownPackage.dependencies[name]).toBeUndefined()
    }
    expect(
      ownPackage.peerDependenciesMeta?.["@medusajs/admin-sdk"]?.optional
    ).toBe(true)
    expect(
      ownPackage.peerDependenciesMeta?.["@medusajs/framework"]?.optional
    ).toBeFalsy()
  })

  it("installs its own dependencies and uses the store's Medusa packages as peers", () => {
    for (const name of Object.keys(ownPackage.dependencies)) {
      const installed = path.join(store, "node_modules", name)
      expect([name, fs.lstatSync(installed).isDirectory()]).toEqual([
        name,
        true,
      ])
    }
    for (const name of Object.keys(ownPackage.peerDependencies)) {
      const linked = path.join(store, "node_modules", name)
      expect([name, fs.realpathSync(linked)]).toEqual([
        name,
        path.join(REPO, "node_modules", name),
      ])
    }
  })

  it("loads the module entry from the installed tarball, on the store's @medusajs/framework", async () => {
    const loaded = await inStore(`
      const entry = require.resolve("${PACKAGE_NAME}/modules/workflow-engine")
      const { default: moduleExports } = require(entry)
      const framework = require.resolve("@medusajs/framework/utils", { paths: [entry] })
      console.log(JSON.stringify({
        entry,
        framework: require("fs").realpathSync(framework),
        service: moduleExports.service.name,
        lists: typeof moduleExports.service.prototype.listWorkflowExecutions,
        loaders: moduleExports.loaders.length,
      }))
    `)
    expect(loaded).toEqual({
      entry: path.join(
        store,
        "node_modules",
        PACKAGE_NAME,
        ".medusa/server/src/modules/workflow-engine/index.js"
      ),
      framework: expect.stringMatching(
        new RegExp(`^${REPO}/node_modules/@medusajs/framework/`)
      ),
      service: "WorkflowsModuleService",
      lists: "function",
      loaders: expect.any(Number),
    })
    expect(loaded.loaders).toBeGreaterThan(0)
  })

  it("loads the event names from the path the README gives a store's subscribers", async () => {
    const loaded = await inStore(`
      const { WorkflowExecutionEvents } = require("${PACKAGE_NAME}/modules/workflow-engine/events")
      console.log(JSON.stringify({ failed: WorkflowExecutionEvents.FAILED }))
    `)
    expect(loaded.failed).toEqual(
      expect.stringMatching(/^workflow_execution\./)
    )
  })

  it("gives a strict TypeScript store the event names and payload type it imports", async () => {
    fs.writeFileSync(
      path.join(store, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: "Node16",
          moduleResolution: "Node16",
          target: "ES2021",
          types: [],
        },
        files: ["subscriber.ts"],
      })
    )
    fs.writeFileSync(
      path.join(store, "subscriber.ts"),
      `import {
        WorkflowExecutionEvents,
        type WorkflowExecutionEventData,
      } from "${PACKAGE_NAME}/modules/workflow-engine/events"
      export const events: string[] = [WorkflowExecutionEvents.FAILED]
      export const about = (data: WorkflowExecutionEventData): number =>
        data.resource_ids.length + data.event_id.length
      `
    )
    // Fails (TS7016, no declaration file) when the entry ships without its types.
    await run(
      process.execPath,
      [path.join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", "."],
      { cwd: store }
    )
  })

  it("resolves the admin entry for import (the admin's Vite build) and loads it by require, with its widgets", async () => {
    // Plain Node cannot import the ESM build of @medusajs/ui the widgets use (Vite can): resolve it only.
    const imported = await inStore(
      `console.log(JSON.stringify({ entry: import.meta.resolve("${PACKAGE_NAME}/admin") }))`,
      "module"
    )
    expect(imported.entry).toBe(
      `file://${path.join(store, "node_modules", PACKAGE_NAME, ".medusa/server/src/admin/index.mjs")}`
    )

    const required = await inStore(
      `console.log(JSON.stringify(require("${PACKAGE_NAME}/admin")))`
    )
    expect(required).toEqual(
      expect.objectContaining({
        widgetModule: {
          widgets: expect.arrayContaining([
            expect.objectContaining({ zone: ["workflow.list.before"] }),
            expect.objectContaining({ zone: ["workflow.details.after"] }),
          ]),
        },
        routeModule: { routes: expect.any(Array) },
      })
    )
  })
})
