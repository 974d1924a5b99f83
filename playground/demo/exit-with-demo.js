// Preloaded (`node -r`) into the Medusa processes the demo starts, which it
// gives an IPC channel for this alone. If the demo goes away without
// stopping them (killed, crashed), the channel closes and the process stops
// itself as on a Ctrl-C, so nothing outlives the demo.

"use strict"

const GRACE_MS = 20000

process.once("disconnect", () => {
  setTimeout(() => process.exit(1), GRACE_MS).unref()
  process.kill(process.pid, "SIGINT")
})
