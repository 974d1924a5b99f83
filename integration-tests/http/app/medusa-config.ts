import { defineConfig, Modules } from "@medusajs/framework/utils"
import path from "path"

/**
 * The Medusa app the HTTP integration tests boot. It is a stock Medusa setup
 * except for the Workflow Engine, which is this plugin's module loaded straight
 * from its source. The test runner overrides the database URL and disables the
 * admin dashboard; both are set here too so the file also reads correctly on
 * its own.
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
  modules: [
    {
      key: Modules.WORKFLOW_ENGINE,
      resolve: path.resolve(__dirname, "../../../src/modules/workflow-engine"),
      options: {},
    },
  ],
})
