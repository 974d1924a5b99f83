import { defineConfig, Modules } from "@medusajs/framework/utils"

/**
 * The demo store: a stock Medusa setup with this plugin installed the way the
 * README tells a store to. `npm run demo` (../demo/index.js) sets
 * DATABASE_URL and PORT before it starts Medusa with this folder as its root.
 */
module.exports = defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    http: {
      jwtSecret: "playground-jwt-secret",
      cookieSecret: "playground-cookie-secret",
      storeCors: "http://localhost:8000",
      adminCors: `http://localhost:${process.env.PORT ?? 9000}`,
      authCors: `http://localhost:${process.env.PORT ?? 9000}`,
    },
    // `medusa start` runs as NODE_ENV=production, whose session cookie is
    // Secure: a browser would never send it back to http://localhost, and the
    // admin's login would go round in circles. The demo serves plain http.
    cookieOptions: { secure: false, sameSite: "lax" },
  },
  plugins: [{ resolve: "medusa-workflow-engine-postgres", options: {} }],
  modules: [
    {
      key: Modules.WORKFLOW_ENGINE,
      resolve: "medusa-workflow-engine-postgres/modules/workflow-engine",
      options: {
        // An hourly purge instead of the default 15 minutes, so that the
        // expired executions the seed makes stay visible during a demo
        // (the admin can still preview and run a purge at any time).
        purgeIntervalSeconds: 3600,
      },
    },
    {
      // What Medusa sets up when nothing is said, written out because the
      // demo's subscriber (src/subscribers/workflow-failure-notification.ts)
      // relies on it: notifications on the `feed` channel go to the local
      // provider, and the admin's bell lists them.
      key: Modules.NOTIFICATION,
      resolve: "@medusajs/medusa/notification",
      options: {
        providers: [
          {
            resolve: "@medusajs/medusa/notification-local",
            id: "local",
            options: { name: "Admin feed", channels: ["feed"] },
          },
        ],
      },
    },
  ],
})
