/** The name of the engine's meter and tracer, as a store's views and dashboards select them. */
export const METER_NAME = "medusa-workflow-engine-postgres"
