// Jest global teardown: stop the embedded Postgres that global-setup.js may
// have started, and remove its temp data folder (and the copy of its binaries,
// if it made one). Nothing to do when the tests used an already running
// Postgres.

"use strict"

const { HANDLE_KEY, stopEmbeddedPostgres } = require("./global-setup")

module.exports = async function globalTeardown() {
  const handle = globalThis[HANDLE_KEY]
  if (!handle) {
    return
  }
  delete globalThis[HANDLE_KEY]
  await stopEmbeddedPostgres(handle)
  const removed = handle.binariesCopy
    ? `${handle.dataDir} and ${handle.binariesCopy}`
    : handle.dataDir
  console.log(
    `[integration-tests] Stopped the embedded Postgres at localhost:${handle.port} and removed ${removed}.`
  )
}
