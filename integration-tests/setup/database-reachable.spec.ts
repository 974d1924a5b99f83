import { Client } from "pg"

// Proves that the global setup left a usable Postgres behind, with the
// DB_* variables (same defaults as @medusajs/test-utils) pointing at it.
function clientFor(database: string): Client {
  return new Client({
    host: process.env.DB_HOST ?? "localhost",
    port: Number.parseInt(process.env.DB_PORT ?? "5432", 10),
    user: process.env.DB_USERNAME ?? "postgres",
    password: process.env.DB_PASSWORD || undefined,
    database,
  })
}

describe("integration test database", () => {
  it("exports the DB_* variables that Medusa's test utils read", () => {
    expect(process.env.DB_HOST).toBeTruthy()
    expect(process.env.DB_PORT).toMatch(/^\d+$/)
    expect(process.env.DB_USERNAME).toBeTruthy()
  })

  it("answers select 1", async () => {
    const client = clientFor("postgres")
    await client.connect()
    try {
      const { rows } = await client.query("select 1 as one")
      expect(rows).toEqual([{ one: 1 }])
    } finally {
      await client.end()
    }
  })

  it("can create, use and drop a database", async () => {
    const name = `wep_setup_check_${process.pid}_${Date.now()}`
    const admin = clientFor("postgres")
    await admin.connect()
    try {
      await admin.query(`create database "${name}"`)
      try {
        const client = clientFor(name)
        await client.connect()
        try {
          await client.query("create table t (id serial primary key, v jsonb)")
          await client.query("insert into t (v) values ($1)", [{ a: "é" }])
          const { rows } = await client.query("select v from t")
          expect(rows).toEqual([{ v: { a: "é" } }])
        } finally {
          await client.end()
        }
      } finally {
        await admin.query(`drop database "${name}"`)
      }
      const { rowCount } = await admin.query(
        "select 1 from pg_database where datname = $1",
        [name]
      )
      expect(rowCount).toBe(0)
    } finally {
      await admin.end()
    }
  })
})
