/**
 * The triggers that keep `workflow_execution_count` exact, as the counting
 * migration names them (its SQL is frozen, so they are spelled there too).
 * Without all four the counts may be empty or stale, and must not be read as
 * totals: a schema built from the models (Medusa's module test runner) has the
 * table and none of them.
 */
export const COUNT_TRIGGERS = [
  "workflow_execution_count_insert",
  "workflow_execution_count_update",
  "workflow_execution_count_delete",
  "workflow_execution_count_truncate",
]

/** SQL: how many of COUNT_TRIGGERS are on `workflow_execution` and enabled; all of them is COUNT_TRIGGERS.length. */
export const ENABLED_COUNT_TRIGGERS_SQL = `(SELECT count(*)::int FROM pg_trigger
  WHERE tgrelid = to_regclass('workflow_execution') AND tgenabled <> 'D'
    AND tgname IN (${COUNT_TRIGGERS.map((name) => `'${name}'`).join(", ")}))`
