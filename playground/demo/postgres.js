// Starts the demo's embedded Postgres (postgres-server.js) with its data in
// playground/.data/postgres, kept from one run to the next, on a free port.

"use strict"

const fs = require("fs")
const net = require("net")
const path = require("path")
const { fork } = require("child_process")
const { Client } = require("pg")
const { DATA, POSTGRES_DATA } = require("./layout")

const DATABASE = "medusa_demo"
const LOG_FILE = path.join(DATA, "postgres.log")
const STOP_TIMEOUT_MS = 30000

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "localhost", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null
}

/** The postmaster's pid, from the first line of its lock file. */
function postmasterPid() {
  try {
    return Number.parseInt(
      fs.readFileSync(path.join(POSTGRES_DATA, "postmaster.pid"), "utf8"),
      10
    )
  } catch {
    return undefined
  }
}

/** Creates the database `url` names unless it exists; resolves to whether it did. */
async function createDatabaseIfMissing(url) {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.slice(1))
  const admin = new URL(url)
  admin.pathname = "/postgres"
  const client = new Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    const { rowCount } = await client.query(
      "SELECT 1 FROM pg_database WHERE datname = $1",
      [name]
    )
    if (rowCount) {
      return false
    }
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`)
    return true
  } finally {
    await client.end()
  }
}

/**
 * Resolves to `{ url, stop }` once Postgres accepts connections and the demo
 * database exists. `onStatus` hears "initialising" on a first run.
 */
async function startPostgres(onStatus) {
  fs.mkdirSync(DATA, { recursive: true })
  const port = await freePort()
  const child = fork(
    path.join(__dirname, "postgres-server.js"),
    [POSTGRES_DATA, String(port), LOG_FILE],
    {
      detached: true,
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    }
  )

  const stop = async () => {
    if (!exited(child)) {
      const gone = new Promise((resolve) => child.once("exit", resolve))
      child.kill("SIGINT")
      const timer = setTimeout(() => {
        // The server process did not stop its Postgres in time: stop both.
        const pid = postmasterPid()
        if (pid) {
          try {
            process.kill(pid, "SIGQUIT")
          } catch {}
        }
        child.kill("SIGKILL")
      }, STOP_TIMEOUT_MS)
      await gone
      clearTimeout(timer)
    }
  }

  const credentials = await new Promise((resolve, reject) => {
    child.on("message", (message) => {
      if (message.status === "ready") {
        resolve(message)
      } else if (message.status === "failed") {
        reject(
          new Error(
            `The embedded Postgres did not start: ${message.message} (its log: ${LOG_FILE})`
          )
        )
      } else {
        onStatus(message.status)
      }
    })
    child.once("exit", (code, signal) =>
      reject(
        new Error(
          `The embedded Postgres process exited (${signal ?? code}); its log: ${LOG_FILE}`
        )
      )
    )
  }).catch(async (error) => {
    await stop()
    throw error
  })

  const url = `postgres://${credentials.user}:${credentials.password}@localhost:${port}/${DATABASE}`
  try {
    await createDatabaseIfMissing(url)
  } catch (error) {
    await stop()
    throw error
  }
  return { url, stop }
}

module.exports = { startPostgres, createDatabaseIfMissing }
