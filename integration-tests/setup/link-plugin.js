// Puts this repository (its built plugin in .medusa/server) into the HTTP
// tests' app's node_modules by its package name, as `npm install` of the
// app's `file:` dependency would: the Medusa CLI and Medusa's module loader
// resolve plugins and modules from the app's folder, which has a package.json
// of its own. The global setup runs it before any test, so every HTTP test
// finds the plugin whichever test file runs first.

"use strict"

const fs = require("fs")
const path = require("path")

const REPO = path.join(__dirname, "../..")
const APP = path.join(REPO, "integration-tests/http/app")

function linkPlugin() {
  const link = path.join(APP, "node_modules", "medusa-workflow-engine-postgres")
  if (fs.existsSync(link) && fs.realpathSync(link) === fs.realpathSync(REPO)) {
    return
  }
  fs.mkdirSync(path.dirname(link), { recursive: true })
  fs.rmSync(link, { force: true })
  fs.symlinkSync(path.relative(path.dirname(link), REPO), link, "dir")
}

module.exports = { linkPlugin }
