// Where the demo keeps what it makes. Everything it writes is under
// playground/.data (git-ignored), or DEMO_DATA_DIR, except what Medusa itself insists on
// writing in its project folder (node_modules, .medusa, public/admin, also
// git-ignored); `npm run demo -- --fresh` removes all of it.

"use strict"

const crypto = require("crypto")
const os = require("os")
const path = require("path")
const {
  postgresCannotEnter,
} = require("../../integration-tests/setup/embedded-postgres-as-root")

const REPO = path.resolve(__dirname, "..", "..")
const PLAYGROUND = path.join(REPO, "playground")
const LOCAL = path.join(PLAYGROUND, ".data")
// DEMO_DATA_DIR moves the database and the state file elsewhere (the demo's
// smoke test runs on a throwaway one); the packed plugin stays in LOCAL,
// where playground/package.json names it. As root, Postgres runs as the OS
// user postgres, which cannot enter a checkout in a root-only folder (a
// `mktemp -d`): the data then lives in a folder of the temp dir named after
// the checkout, so a second run still finds it.
const OUT_OF_REACH = postgresCannotEnter(PLAYGROUND)
const DATA = process.env.DEMO_DATA_DIR
  ? path.resolve(process.env.DEMO_DATA_DIR)
  : OUT_OF_REACH
    ? path.join(
        os.tmpdir(),
        `medusa-wep-demo-${crypto.createHash("sha1").update(REPO).digest("hex").slice(0, 8)}`
      )
    : LOCAL

module.exports = {
  REPO,
  PLAYGROUND,
  LOCAL,
  DATA,
  // Why the data is not in LOCAL, when it is not and DEMO_DATA_DIR did not say so.
  OUT_OF_REACH: process.env.DEMO_DATA_DIR ? null : OUT_OF_REACH,
  POSTGRES_DATA: path.join(DATA, "postgres"),
  // playground/package.json names this file as its plugin dependency.
  PACKED_PLUGIN: path.join(
    LOCAL,
    "package",
    "medusa-workflow-engine-postgres.tgz"
  ),
  // `medusa build --admin-only` writes here; `medusa start` serves public/admin.
  ADMIN_BUILD: path.join(PLAYGROUND, ".medusa", "admin"),
  ADMIN_SERVED: path.join(PLAYGROUND, "public", "admin"),
  // The store's own Medusa CLI (a link to the repository's, see playground/package.json).
  MEDUSA_CLI: path.join(
    PLAYGROUND,
    "node_modules",
    "@medusajs",
    "cli",
    "cli.js"
  ),
  // What `--fresh` removes: the data and every folder Medusa or npm made.
  GENERATED: [
    DATA,
    LOCAL,
    path.join(PLAYGROUND, "node_modules"),
    path.join(PLAYGROUND, ".medusa"),
    path.join(PLAYGROUND, "public"),
  ],
}
