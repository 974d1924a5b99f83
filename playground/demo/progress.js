// The demo's own lines, told apart from Medusa's and Postgres' output.

"use strict"

const started = Date.now()

function step(message) {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(5)
  console.log(`[demo ${seconds}s] ${message}`)
}

module.exports = { step }
