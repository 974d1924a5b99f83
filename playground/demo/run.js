// Runs the commands the demo is made of, showing their output indented under
// the demo's own progress lines.

"use strict"

const { spawn } = require("child_process")
const path = require("path")
const { MEDUSA_CLI, PLAYGROUND } = require("./layout")

// Medusa prints a framed notice about its telemetry; the demo turns
// telemetry off (it works offline), so the notice says nothing true.
const NOISE =
  /^[\s║╔╗╚╝═]*$|Medusa collects anonymous usage analytics|to help improve Medusa|opt-out, you can use/

function indent(stream, target, label) {
  const prefix = `    ${label} │ `
  let pending = ""
  stream.setEncoding("utf8")
  stream.on("data", (chunk) => {
    pending += chunk
    const lines = pending.split("\n")
    pending = lines.pop()
    for (const line of lines) {
      if (!NOISE.test(line)) {
        target.write(`${prefix}${line}\n`)
      }
    }
  })
  stream.on("end", () => {
    if (pending && !NOISE.test(pending)) {
      target.write(`${prefix}${pending}\n`)
    }
  })
}

/** The environment of every Medusa process the demo starts. */
function medusaEnv(extra) {
  const env = { ...process.env, MEDUSA_DISABLE_TELEMETRY: "true", ...extra }
  // Each command picks its own NODE_ENV when none is set, as `npx medusa …`
  // does (`start` runs as production, with the admin bundle built above
  // rather than Vite's dev server); a test runner's NODE_ENV=test is not
  // the store's.
  delete env.NODE_ENV
  return env
}

// Every process the demo starts, so that a Ctrl-C can stop them all.
const running = new Set()

/**
 * Spawns a command, its output indented under `label`, in a process group of
 * its own: a Ctrl-C reaches the demo only, which stops its processes in order.
 */
function spawnIndented(command, args, { cwd, env, label, ipc = false }) {
  const stdio = ["ignore", "pipe", "pipe", ...(ipc ? ["ipc"] : [])]
  const child = spawn(command, args, { cwd, env, detached: true, stdio })
  running.add(child)
  child.once("exit", () => running.delete(child))
  indent(child.stdout, process.stdout, label)
  indent(child.stderr, process.stderr, label)
  return child
}

function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal)
  } catch (error) {
    if (error.code !== "ESRCH") {
      throw error
    }
  }
}

/** Stops every process the demo started: SIGINT, and SIGKILL after `graceMs`. */
async function stopAll(graceMs) {
  await Promise.all(
    [...running].map(async (child) => {
      const gone = new Promise((resolve) => child.once("exit", resolve))
      signalGroup(child, "SIGINT")
      const timer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs)
      await gone
      clearTimeout(timer)
    })
  )
}

/** Runs a command to its end; rejects with its exit code or signal. */
function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawnIndented(command, args, options)
    child.once("error", reject)
    child.once("close", (code, signal) => {
      if (code === 0) {
        resolve()
      } else {
        reject(
          new Error(
            `\`${[command, ...args].join(" ")}\` failed (${signal ?? `exit code ${code}`})`
          )
        )
      }
    })
  })
}

const EXIT_WITH_DEMO = path.join(__dirname, "exit-with-demo.js")

function medusaCommand(args, env, label) {
  return [
    process.execPath,
    ["-r", EXIT_WITH_DEMO, MEDUSA_CLI, ...args],
    { cwd: PLAYGROUND, env: medusaEnv(env), label, ipc: true },
  ]
}

/** Runs a `medusa` command in the playground store to its end. */
function medusa(args, { env, label = "medusa" } = {}) {
  return run(...medusaCommand(args, env, label))
}

/** Starts a `medusa` command in the playground store and returns its process. */
function spawnMedusa(args, { env, label = "medusa" } = {}) {
  return spawnIndented(...medusaCommand(args, env, label))
}

module.exports = { run, medusa, spawnMedusa, stopAll }
