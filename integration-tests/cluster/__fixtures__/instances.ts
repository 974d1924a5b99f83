import { ChildProcess, spawn } from "child_process"
import path from "path"

export type Instance = { name: string; child: ChildProcess; output: () => string }

/** Starts an engine instance process (engine-instance.ts unless told) and resolves once it printed "ready". */
export function startInstance(name: string, env: Record<string, string>, script = "engine-instance.ts"): Promise<Instance> {
  const child = spawn(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", path.join(__dirname, script)],
    {
      env: { ...process.env, NODE_OPTIONS: "", INSTANCE_NAME: name, ...env },
      cwd: path.join(__dirname, "../../.."),
      stdio: ["ignore", "pipe", "pipe"],
    }
  )
  let output = ""
  child.stdout!.on("data", (chunk) => (output += chunk))
  child.stderr!.on("data", (chunk) => (output += chunk))
  const instance = { name, child, output: () => output }
  return new Promise((resolve, reject) => {
    const onData = () => {
      if (output.includes("ready\n")) {
        child.stdout!.off("data", onData)
        resolve(instance)
      }
    }
    child.stdout!.on("data", onData)
    child.once("exit", (code) => reject(new Error(`instance ${name} exited (${code}) before it was ready:\n${output}`)))
  })
}

/** A real SIGKILL: no shutdown hook runs, the lease is left to run out. */
export async function kill(instance: Instance): Promise<void> {
  if (instance.child.exitCode !== null || instance.child.signalCode !== null) {
    return
  }
  const exited = new Promise((resolve) => instance.child.once("exit", resolve))
  instance.child.kill("SIGKILL")
  await exited
}
