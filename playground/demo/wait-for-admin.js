// Waits until the admin answers: its page at /app, served by `medusa start`.

"use strict"

const http = require("http")

const DEADLINE_MS = 5 * 60 * 1000
const RETRY_MS = 500

function status(url) {
  return new Promise((resolve) => {
    const request = http.get(url, (response) => {
      response.resume()
      resolve(response.statusCode)
    })
    request.setTimeout(5000, () => request.destroy())
    request.once("error", () => resolve(undefined))
  })
}

/** Resolves once `url` answers 200; rejects if `server` exits first or the deadline passes. */
async function waitForAdmin(url, server) {
  let exited
  server.once(
    "exit",
    (code, signal) => (exited = signal ?? `exit code ${code}`)
  )
  const deadline = Date.now() + DEADLINE_MS
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(`Medusa exited before the admin answered (${exited})`)
    }
    if ((await status(url)) === 200) {
      return
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS))
  }
  throw new Error(
    `The admin did not answer at ${url} within ${DEADLINE_MS / 60000} minutes`
  )
}

module.exports = { waitForAdmin }
