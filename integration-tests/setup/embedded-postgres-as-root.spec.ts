import { execFile } from "child_process"
import fs from "fs"
import os from "os"
import path from "path"
import { Client } from "pg"
import { promisify } from "util"

// Plain CommonJS, loaded as the global setup loads them.
const {
  copyEmbeddedPostgres,
  postgresCannotEnter,
  runsAsRoot,
} = require("./embedded-postgres-as-root")
const {
  startEmbeddedPostgres,
  stopEmbeddedPostgres,
} = require("./global-setup")

// As root, the embedded Postgres runs as the OS user postgres; otherwise as
// the process' own user, which can reach whatever the process can.
const AS_ROOT: boolean = runsAsRoot()

// What a root-owned `mktemp -d` is: a folder only its owner can enter (mode 0700).
const ownerOnlyFolder = (name: string) =>
  fs.mkdtempSync(path.join(os.tmpdir(), `wep-${name}-`))

async function answers(handle: { port: number }) {
  const client = new Client({
    host: "localhost",
    port: handle.port,
    user: "postgres",
    password: "postgres",
    database: "postgres",
  })
  await client.connect()
  try {
    return (await client.query("SELECT 1 AS one")).rows
  } finally {
    await client.end()
  }
}

describe("the embedded Postgres, in folders only the process' user can enter", () => {
  it("names the first folder on the way that the OS user running Postgres cannot enter", () => {
    const checkout = ownerOnlyFolder("checkout")
    try {
      const dataParent = path.join(checkout, "playground", ".data")
      expect(postgresCannotEnter(dataParent)).toEqual(
        AS_ROOT
          ? expect.stringContaining(
              `cannot enter ${checkout} (mode 700, owner uid 0)`
            )
          : null
      )
      fs.chmodSync(checkout, 0o711)
      expect(postgresCannotEnter(dataParent)).toBeNull()
    } finally {
      fs.rmSync(checkout, { recursive: true, force: true })
    }
  })

  it("starts from a checkout only its owner can enter, and removes the folders it made when it stops", async () => {
    const checkout = ownerOnlyFolder("checkout")
    try {
      copyEmbeddedPostgres(checkout)
      const handle = await startEmbeddedPostgres(checkout)
      try {
        // As root, the binaries run from a copy the OS user postgres can reach.
        expect(handle.binariesCopy !== null).toBe(AS_ROOT)
        expect(await answers(handle)).toEqual([{ one: 1 }])
      } finally {
        await stopEmbeddedPostgres(handle)
      }
      expect(fs.existsSync(handle.dataDir)).toBe(false)
      expect(
        handle.binariesCopy && fs.existsSync(handle.binariesCopy)
      ).toBeFalsy()
    } finally {
      fs.rmSync(checkout, { recursive: true, force: true })
    }
  })

  it("says what to do when the OS user running Postgres cannot reach TMPDIR, and leaves nothing there", async () => {
    const outer = ownerOnlyFolder("tmpdir")
    const tmp = path.join(outer, "tmp")
    fs.mkdirSync(tmp, { mode: 0o1777 })
    try {
      // A process of its own, as `npm test` runs the setup: os.tmpdir() reads the real environment.
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          "-e",
          `const setup = require("./global-setup"), teardown = require("./global-teardown")
           setup().then(teardown).then(() => console.log("started"), (error) => console.log(error.message))`,
        ],
        {
          cwd: __dirname,
          env: {
            ...process.env,
            NODE_OPTIONS: "",
            EMBEDDED_POSTGRES: "1",
            TMPDIR: tmp,
          },
        }
      )
      if (AS_ROOT) {
        expect(stdout).toContain(
          `cannot enter ${outer} (mode 700, owner uid 0).\nPoint TMPDIR at a folder it can enter`
        )
      } else {
        expect(stdout).toContain("started")
      }
      expect(fs.readdirSync(tmp)).toEqual([])
    } finally {
      fs.rmSync(outer, { recursive: true, force: true })
    }
  })
})
