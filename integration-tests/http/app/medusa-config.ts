import { defineConfig, Modules } from "@medusajs/framework/utils"

/**
 * The Medusa app the HTTP integration tests boot: a stock Medusa setup that
 * installs this plugin exactly as its README tells a store to, by package name
 * (the repository's own package, built into .medusa/server by `npm test`'s
 * pretest step). The test runner overrides the database URL and disables the
 * admin dashboard; both are set here too so the file reads correctly on its own.
 */
module.exports = defineConfig({
  projectConfig: {
    http: {
      jwtSecret: "wep-http-tests-jwt-secret",
      cookieSecret: "wep-http-tests-cookie-secret",
      storeCors: "http://localhost:8000",
      adminCors: "http://localhost:9000",
      authCors: "http://localhost:9000",
    },
  },
  admin: {
    disable: true,
  },
  plugins: [{ resolve: "medusa-workflow-engine-postgres", options: {} }],
  modules: [
    {
      key: Modules.WORKFLOW_ENGINE,
      resolve: "medusa-workflow-engine-postgres/modules/workflow-engine",
      options: {},
    },
  ],
})
