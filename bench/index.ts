/**
 * `npm run bench -- <name>` runs one benchmark; without a name, all of them,
 * one after the other. Each prints a Markdown table for BENCHMARKS.md.
 */
const BENCHMARKS: Record<string, () => Promise<{ run: () => Promise<void> }>> =
  {
    purge: async () => require("./purge"),
    scale: async () => require("./scale"),
    storage: async () => require("./storage"),
    engines: async () => require("./engines"),
    timers: async () => require("./timers"),
    idle: async () => require("./idle"),
    upgrade: async () => require("./upgrade"),
    "pending-upgrade": async () => require("./pending-upgrade"),
    metrics: async () => require("./metrics"),
    "long-running": async () => require("./long-running"),
  }

async function main() {
  const wanted = process.argv.slice(2)
  const unknown = wanted.filter((name) => !(name in BENCHMARKS))
  if (unknown.length) {
    throw new Error(
      `Unknown benchmark ${unknown.join(", ")}; known: ${Object.keys(BENCHMARKS).join(", ")}`
    )
  }
  for (const name of wanted.length ? wanted : Object.keys(BENCHMARKS)) {
    console.log(`\n## ${name}\n`)
    await (await BENCHMARKS[name]()).run()
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
