/*
 * The rule of the module (which the bulk retry applies too), for the retry
 * route and the admin panel; that file has no imports, so the admin bundle
 * takes no server code with it.
 */
export * from "../../../modules/workflow-engine/retryable-step"
