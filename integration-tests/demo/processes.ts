import fs from "fs"

/** The live processes of this machine: pid → parent pid and command line. */
function processTable(): Map<number, { ppid: number; cmdline: string }> {
  const table = new Map<number, { ppid: number; cmdline: string }>()
  for (const entry of fs.readdirSync("/proc")) {
    const pid = Number(entry)
    if (!Number.isInteger(pid)) {
      continue
    }
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
      // The command name in parentheses may hold spaces; the fields after it do not.
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      if (state === "Z") {
        continue
      }
      const cmdline = fs
        .readFileSync(`/proc/${pid}/cmdline`, "utf8")
        .split("\0")
        .join(" ")
        .trim()
      table.set(pid, { ppid: Number(ppid), cmdline })
    } catch {
      // The process ended while the table was read.
    }
  }
  return table
}

/** `root` and every live process descending from it. */
export function processTree(root: number): Map<number, string> {
  const table = processTable()
  const tree = new Map<number, string>()
  const pending = [root]
  while (pending.length) {
    const pid = pending.pop()!
    const entry = table.get(pid)
    if (!entry || tree.has(pid)) {
      continue
    }
    tree.set(pid, entry.cmdline)
    for (const [child, { ppid }] of table) {
      if (ppid === pid) {
        pending.push(child)
      }
    }
  }
  return tree
}

/** Which of `pids` are still alive (zombies count as gone). */
export function alive(pids: Iterable<number>): Map<number, string> {
  const table = processTable()
  return new Map(
    [...pids]
      .filter((pid) => table.has(pid))
      .map((pid) => [pid, table.get(pid)!.cmdline])
  )
}

/** Live processes whose command line mentions `text`. */
export function processesMentioning(text: string): Map<number, string> {
  return new Map(
    [...processTable()]
      .filter(([, { cmdline }]) => cmdline.includes(text))
      .map(([pid, { cmdline }]) => [pid, cmdline])
  )
}
