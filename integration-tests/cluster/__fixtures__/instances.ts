import { ChildProcess, spawn } from "child_process"
import path from "path"
import { Command, Heard } from "./instance-commands"

export type Instance = {
  name: string
  child: ChildProcess
  output: () => string
  /** The onFinish events its `subscribe` commands heard, in order. */
  heard: Heard[]
}

/** Starts an engine instance process (engine-instance.ts unless told: a name in this folder, or an absolute path) and resolves once it printed "ready". It takes commands: see `ask`. */
export function startInstance(
  name: string,
  env: Record<string, string>,
  script = "engine-instance.ts"
): Promise<Instance> {
  const child = spawn(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", path.resolve(__dirname, script)],
    {
      env: { ...process.env, NODE_OPTIONS: "", INSTANCE_NAME: name, ...env },
      cwd: path.join(__dirname, "../../.."),
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    }
  )
  let output = ""
  child.stdout!.on("data", (chunk) => (output += chunk))
  child.stderr!.on("data", (chunk) => (output += chunk))
  const instance: Instance = { name, child, output: () => output, heard: [] }
  child.on(
    "message",
    (message: { heard?: Heard }) =>
      message.heard && instance.heard.push(message.heard)
  )
  return new Promise((resolve, reject) => {
    const onData = () => {
      if (output.includes("ready\n")) {
        child.stdout!.off("data", onData)
        resolve(instance)
      }
    }
    child.stdout!.on("data", onData)
    child.once("exit", (code) =>
      reject(
        new Error(
          `instance ${name} exited (${code}) before it was ready:\n${output}`
        )
      )
    )
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

let lastCommandId = 0

/** Sends a command to a running instance; resolves with its reply (see instance-commands). */
export function ask<T = unknown>(
  instance: Instance,
  command: Command
): Promise<T> {
  const id = ++lastCommandId
  return new Promise((resolve, reject) => {
    const onMessage = (message: { id?: number; reply?: T; error?: string }) => {
      if (message.id !== id) {
        return
      }
      instance.child.off("message", onMessage)
      instance.child.off("exit", onExit)
      message.error === undefined
        ? resolve(message.reply as T)
        : reject(new Error(message.error))
    }
    const onExit = () =>
      reject(
        new Error(
          `instance ${instance.name} exited before it answered:\n${instance.output()}`
        )
      )
    instance.child.on("message", onMessage)
    instance.child.once("exit", onExit)
    instance.child.send({ id, command })
  })
}

/** Whether the process is still running: neither exited nor killed. */
export function isRunning(instance: Instance): boolean {
  return instance.child.exitCode === null && instance.child.signalCode === null
}
