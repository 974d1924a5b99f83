// Runs the commands the demo is made of, showing their output indented under
// the demo's own progress lines.

"use strict"

const { spawn } = require("child_process")
const { MEDUSA_CLI, PLAYGROUND } = require("./layout")

// Medusa prints a framed notice about its telemetry; the demo turns
// telemetry off (it works offline), so the notice says nothing true.
const NOISE = /^[\s║╔╗╚╝═]*$|Medusa collects anonymous usage analytics|to help improve Medusa|opt-out, you can use/

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
  // Medusa serves its Vite dev server for NODE_ENV=development and marks
  // cookies secure for production; the demo wants neither (nor a test
  // runner's NODE_ENV=test), so it runs as a plain `npx medusa start` does.
  delete env.NODE_ENV
  return env
}

// Every process the demo starts, so that a Ctrl-C can stop them all.
const running = new Set()

/**
 * Spawns a command, its output indented under `label`, in a process group of
 * its own: a Ctrl-C reaches the demo only, which stops its processes in order.
 */
function spawnIndented(command, args, { cwd, env, label }) {
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] })
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
        reject(new Error(`\`${[command, ...args].join(" ")}\` failed (${signal ?? `exit code ${code}`})`))
      }
    })
  })
}

/** Runs a `medusa` command in the playground store to its end. */
function medusa(args, { env, label = "medusa" } = {}) {
  return run(process.execPath, [MEDUSA_CLI, ...args], { cwd: PLAYGROUND, env: medusaEnv(env), label })
}

/** Starts a `medusa` command in the playground store and returns its process. */
function spawnMedusa(args, { env, label = "medusa" } = {}) {
  return spawnIndented(process.execPath, [MEDUSA_CLI, ...args], { cwd: PLAYGROUND, env: medusaEnv(env), label })
}

module.exports = { run, medusa, spawnMedusa, stopAll }
