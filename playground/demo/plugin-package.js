// Puts this plugin into the playground store the way a store gets it: built,
// packed by `npm pack`, and installed from that tarball by npm into
// playground/node_modules (playground/package.json names the tarball). The
// store's Medusa packages are links to the repository's own, so the plugin's
// peer dependencies resolve to the very copies it is built and tested with.

"use strict"

const crypto = require("crypto")
const fs = require("fs")
const path = require("path")
const { PACKED_PLUGIN, PLAYGROUND, REPO } = require("./layout")
const { run } = require("./run")

const INSTALLED = path.join(
  PLAYGROUND,
  "node_modules",
  "medusa-workflow-engine-postgres"
)

// Under `npm run demo`, npm says where it is; otherwise the npm on the PATH.
function npm(args, cwd, label) {
  const npmCli = process.env.npm_execpath
  return npmCli && npmCli.endsWith(".js")
    ? run(process.execPath, [npmCli, ...args], { cwd, env: process.env, label })
    : run("npm", args, { cwd, env: process.env, label })
}

function sha256(file) {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex")
}

/** Builds and packs the plugin; resolves to the tarball's sha256. */
async function packPlugin(step) {
  step("Building the plugin (medusa plugin:build)")
  await npm(["run", "--silent", "build"], REPO, "build")
  step("Packing it (npm pack)")
  const folder = path.dirname(PACKED_PLUGIN)
  fs.rmSync(folder, { recursive: true, force: true })
  fs.mkdirSync(folder, { recursive: true })
  await npm(["pack", "--silent", "--pack-destination", folder], REPO, "pack")
  const [tarball] = fs
    .readdirSync(folder)
    .filter((name) => name.endsWith(".tgz"))
  fs.renameSync(path.join(folder, tarball), PACKED_PLUGIN)
  return sha256(PACKED_PLUGIN)
}

/** Installs the packed plugin into the playground unless that very tarball is installed. */
async function installPlugin(step, tarballSha, installedSha) {
  if (
    tarballSha === installedSha &&
    fs.existsSync(path.join(INSTALLED, "package.json"))
  ) {
    step("The playground already has this build of the plugin installed")
    return
  }
  step(
    "Installing the packed plugin into playground/node_modules (npm install, offline-first)"
  )
  // npm keeps a tarball of an unchanged name and version as it is.
  fs.rmSync(INSTALLED, { recursive: true, force: true })
  // Peers are not installed: they are the store's own packages, linked.
  await npm(
    [
      "install",
      "--no-save",
      "--no-package-lock",
      "--prefer-offline",
      "--legacy-peer-deps",
      "--no-audit",
      "--no-fund",
    ],
    PLAYGROUND,
    "npm"
  )
}

module.exports = { packPlugin, installPlugin }
