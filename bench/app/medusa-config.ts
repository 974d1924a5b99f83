import { defineConfig, Modules } from "@medusajs/framework/utils"

/**
 * The stock Medusa app `npm run bench -- engines` boots, once per Workflow
 * Engine: BENCH_ENGINE picks the engine, DATABASE_URL the database. "ours"
 * installs this plugin as the README tells a store to, by package name (the
 * repository's own package, built into .medusa/server; the bench links it
 * into ./node_modules, as installing package.json's file: dependency would).
 */
const ENGINES = {
  ours: {
    plugins: [{ resolve: "medusa-workflow-engine-postgres", options: {} }],
    modules: [
      {
        key: Modules.WORKFLOW_ENGINE,
        resolve: "medusa-workflow-engine-postgres/modules/workflow-engine",
        options: {},
      },
    ],
  },
  // Medusa's default engine; named here only so the choice reads explicitly.
  inmemory: {
    plugins: [],
    modules: [
      {
        key: Modules.WORKFLOW_ENGINE,
        resolve: "@medusajs/medusa/workflow-engine-inmemory",
        options: {},
      },
    ],
  },
  redis: {
    plugins: [],
    modules: [
      {
        key: Modules.WORKFLOW_ENGINE,
        resolve: "@medusajs/medusa/workflow-engine-redis",
        options: { redis: { redisUrl: process.env.REDIS_URL } },
      },
    ],
  },
}

const engine = (process.env.BENCH_ENGINE ?? "ours") as keyof typeof ENGINES
if (!(engine in ENGINES)) {
  throw new Error(
    `BENCH_ENGINE must be one of ${Object.keys(ENGINES).join(", ")}, got ${engine}`
  )
}

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    http: {
      jwtSecret: "wep-bench-jwt-secret",
      cookieSecret: "wep-bench-cookie-secret",
      storeCors: "http://localhost:8000",
      adminCors: "http://localhost:9000",
      authCors: "http://localhost:9000",
    },
  },
  admin: { disable: true },
  ...ENGINES[engine],
})
