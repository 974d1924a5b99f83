// The admin bundle the store serves: `medusa build --admin-only`, moved to
// public/admin where `medusa start` looks for it. Vite bundles from local
// files only, so this works offline. Rebuilt only when its inputs change.

"use strict"

const crypto = require("crypto")
const fs = require("fs")
const path = require("path")
const { ADMIN_BUILD, ADMIN_SERVED, PLAYGROUND } = require("./layout")
const { medusa } = require("./run")

/** What the bundle is made of: the plugin (its admin extensions) and the store's config and admin folder. */
function adminInputs(tarballSha) {
  const hash = crypto.createHash("sha256").update(tarballSha)
  const files = [path.join(PLAYGROUND, "medusa-config.ts")]
  const adminSources = path.join(PLAYGROUND, "src", "admin")
  if (fs.existsSync(adminSources)) {
    for (const name of fs
      .readdirSync(adminSources, { recursive: true })
      .sort()) {
      files.push(path.join(adminSources, String(name)))
    }
  }
  for (const file of files) {
    if (fs.statSync(file).isFile()) {
      hash.update(file).update(fs.readFileSync(file))
    }
  }
  return hash.digest("hex")
}

/** Builds the admin unless a bundle of the same inputs is there; resolves to the inputs' hash. */
async function buildAdmin(step, tarballSha, builtFrom) {
  const inputs = adminInputs(tarballSha)
  if (
    inputs === builtFrom &&
    fs.existsSync(path.join(ADMIN_SERVED, "index.html"))
  ) {
    step("The admin bundle is up to date")
    return inputs
  }
  step("Building the admin (medusa build --admin-only, Vite)")
  await medusa(["build", "--admin-only"], { label: "admin" })
  fs.rmSync(ADMIN_SERVED, { recursive: true, force: true })
  fs.mkdirSync(path.dirname(ADMIN_SERVED), { recursive: true })
  fs.renameSync(ADMIN_BUILD, ADMIN_SERVED)
  step("Admin built")
  return inputs
}

module.exports = { buildAdmin }
