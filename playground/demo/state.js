// What earlier runs already did, so a second `npm run demo` skips it: which
// plugin tarball each database was migrated with and whether it was seeded,
// and which inputs the admin bundle was built from.

"use strict"

const fs = require("fs")
const { STATE_FILE } = require("./layout")

function readState() {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, "utf8"))
  } catch (error) {
    if (error.code === "ENOENT") {
      return { databases: {} }
    }
    throw error
  }
}

function writeState(state) {
  fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 2) + "\n")
}

module.exports = { readState, writeState }
