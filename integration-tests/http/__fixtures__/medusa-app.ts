import { spawn } from "child_process"
import path from "path"
import { freePort } from "../../cluster/__fixtures__/free-port"
import { linkPlugin } from "../../setup/link-plugin"

/** The stock Medusa app of the HTTP tests, with this plugin installed by package name. */
export const APP = path.join(__dirname, "../app")
const MEDUSA_CLI = require.resolve("@medusajs/cli/cli.js")
/** A command that runs longer than this is stuck: it is killed and its output shown. */
const COMMAND_TIMEOUT_MS = 10 * 60 * 1000

function spawnCli(
  args: string[],
  databaseUrl: string,
  env: Record<string, string>
) {
  linkPlugin()
  const child = spawn(process.execPath, [MEDUSA_CLI, ...args], {
    cwd: APP,
    env: {
      ...process.env,
      NODE_OPTIONS: "",
      MEDUSA_DISABLE_TELEMETRY: "true",
      DATABASE_URL: databaseUrl,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  })
  let output = ""
  child.stdout.on("data", (chunk) => (output += chunk))
  child.stderr.on("data", (chunk) => (output += chunk))
  return { child, output: () => output }
}

/**
 * Runs `medusa <args>` in the app to its end, as a store's operator would, on
 * the database `databaseUrl`. Resolves with everything it printed; rejects
 * with it when the command fails.
 */
export function medusa(
  args: string[],
  databaseUrl: string,
  env: Record<string, string> = {}
): Promise<string> {
  const { child, output } = spawnCli(args, databaseUrl, env)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), COMMAND_TIMEOUT_MS)
    child.on("error", reject)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      if (code === 0) {
        resolve(output())
      } else {
        reject(
          new Error(
            `medusa ${args.join(" ")} ended with ${signal ?? `code ${code}`}:\n${output().slice(-8000)}`
          )
        )
      }
    })
  })
}

/**
 * Starts the app (`medusa start`, every instance's default worker mode) on
 * `databaseUrl` and a free port; `stop()` sends SIGTERM, as a deploy does,
 * and resolves once it exited.
 */
export async function startMedusa(
  databaseUrl: string
): Promise<{ output: () => string; stop: () => Promise<void> }> {
  const port = await freePort()
  const { child, output } = spawnCli(["start"], databaseUrl, {
    PORT: String(port),
  })
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => resolve())
  )
  return {
    output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM")
        const timer = setTimeout(
          () => child.kill("SIGKILL"),
          COMMAND_TIMEOUT_MS
        )
        await exited
        clearTimeout(timer)
      }
    },
  }
}
