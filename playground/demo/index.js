// `npm run demo`: the playground store with this plugin, on an embedded
// Postgres (or the one DATABASE_URL names), migrated and seeded, serving the
// admin on http://localhost:$PORT/app (9000 by default). Ctrl-C stops Medusa,
// then Postgres. A second run reuses the data and skips what is done;
// `npm run demo -- --fresh` starts from nothing.

"use strict"

const fs = require("fs")
const path = require("path")
const { buildAdmin } = require("./admin-build")
const credentials = require("./credentials")
const { DATA, GENERATED, OUT_OF_REACH, POSTGRES_DATA } = require("./layout")
const { installPlugin, packPlugin } = require("./plugin-package")
const { createDatabaseIfMissing, startPostgres } = require("./postgres")
const { step } = require("./progress")
const { medusa, spawnMedusa, stopAll } = require("./run")
const { databaseState, playgroundState } = require("./state")
const { waitForAdmin } = require("./wait-for-admin")

const MEDUSA_STOP_GRACE_MS = 20000

let postgres
let stopping = false

async function shutdown(signal) {
  if (stopping) {
    return
  }
  stopping = true
  step(`${signal}: stopping the store`)
  await stopAll(MEDUSA_STOP_GRACE_MS)
  if (postgres) {
    step("Stopping the embedded Postgres")
    await postgres.stop()
  }
  step("Stopped")
  // A stop the user asked for is a normal end of the demo.
  process.exit(0)
}

/** The key of a database in the state file: the URL without its password. */
function databaseKey(url) {
  if (!url) {
    return "embedded"
  }
  const parsed = new URL(url)
  parsed.password = ""
  return parsed.toString()
}

async function main() {
  process.on("SIGINT", () => void shutdown("SIGINT"))
  process.on("SIGTERM", () => void shutdown("SIGTERM"))

  if (process.argv.includes("--fresh")) {
    step(
      "--fresh: removing the playground's data, build and installed packages"
    )
    for (const folder of GENERATED) {
      fs.rmSync(folder, { recursive: true, force: true })
    }
  }
  const port = process.env.PORT || "9000"
  fs.mkdirSync(DATA, { recursive: true })
  const playground = playgroundState.read()
  const databases = databaseState.read()

  const tarballSha = await packPlugin(step)
  await installPlugin(step, tarballSha, playground.plugin)
  playground.plugin = tarballSha
  playgroundState.write(playground)

  // The admin bundle needs no database: it builds while Postgres starts and
  // the migrations run.
  const adminBuilt = buildAdmin(step, tarballSha, playground.admin)
  adminBuilt.catch(() => {})

  let databaseUrl = process.env.DATABASE_URL
  if (databaseUrl) {
    step("Using the database DATABASE_URL names")
    if (await createDatabaseIfMissing(databaseUrl)) {
      step("Created it")
    }
  } else {
    const where = OUT_OF_REACH
      ? `${POSTGRES_DATA}: ${OUT_OF_REACH.replace(/\.$/, "")}, so not under playground/`
      : path.relative(process.cwd(), POSTGRES_DATA) || "."
    step(`Starting the embedded Postgres (data in ${where})`)
    postgres = await startPostgres((status) => {
      if (status === "initialising") {
        step("First run: creating the Postgres data folder (initdb)")
      }
    })
    databaseUrl = postgres.url
    step(`Postgres is up at ${databaseUrl.replace(/:[^:@/]*@/, ":***@")}`)
  }
  const key = databaseKey(process.env.DATABASE_URL)
  const database = (databases[key] ??= {})
  const env = { DATABASE_URL: databaseUrl, PORT: port }

  if (database.migrated !== tarballSha) {
    step("Migrating the database (medusa db:migrate)")
    await medusa(["db:migrate"], { env, label: "migrate" })
    database.migrated = tarballSha
    databaseState.write(databases)
  } else {
    step("The database is migrated for this build of the plugin")
  }

  if (!database.seeded) {
    step(
      "Creating the admin user and seeding workflow executions (medusa exec ./src/scripts/seed-demo.ts)"
    )
    await medusa(["exec", "./src/scripts/seed-demo.ts"], {
      env: {
        ...env,
        DEMO_ADMIN_EMAIL: credentials.email,
        DEMO_ADMIN_PASSWORD: credentials.password,
      },
      label: "seed",
    })
    database.seeded = true
    databaseState.write(databases)
  } else {
    step("The database is seeded")
  }

  playground.admin = await adminBuilt
  playgroundState.write(playground)

  step(`Starting Medusa (medusa start) on port ${port}`)
  const server = spawnMedusa(["start"], { env, label: "medusa" })
  const url = `http://localhost:${port}/app`
  await waitForAdmin(url, server)
  step(`The admin is ready: ${url}`)
  console.log(`Medusa admin: ${url}`)
  console.log(
    `Log in with email ${credentials.email} and password ${credentials.password}`
  )
  console.log("Press Ctrl-C to stop the store and its Postgres.")

  const [code, signal] = await new Promise((resolve) =>
    server.once("exit", (...result) => resolve(result))
  )
  if (!stopping) {
    throw new Error(`Medusa exited (${signal ?? `exit code ${code}`})`)
  }
}

main().catch(async (error) => {
  if (stopping) {
    return
  }
  console.error(`[demo] ${error instanceof Error ? error.message : error}`)
  stopping = true
  await stopAll(MEDUSA_STOP_GRACE_MS)
  await postgres?.stop()
  process.exit(1)
})
