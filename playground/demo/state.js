// What earlier runs already did, so a second `npm run demo` skips it. Two
// files, because they describe two things: the playground folder (which
// plugin tarball is installed, which inputs the admin bundle was built from)
// and the databases (which tarball each was migrated with, whether it was
// seeded), which DEMO_DATA_DIR may keep elsewhere.

"use strict"

const fs = require("fs")
const path = require("path")
const { DATA, LOCAL } = require("./layout")

function jsonFile(file, empty) {
  return {
    read() {
      try {
        return JSON.parse(fs.readFileSync(file, "utf8"))
      } catch (error) {
        if (error.code === "ENOENT") {
          return empty()
        }
        throw error
      }
    },
    write(value) {
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n")
    },
  }
}

module.exports = {
  playgroundState: jsonFile(
    path.join(LOCAL, "playground-state.json"),
    () => ({})
  ),
  databaseState: jsonFile(path.join(DATA, "database-state.json"), () => ({})),
}
