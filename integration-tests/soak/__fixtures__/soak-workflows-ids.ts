/** The soak's workflows, for the harness, which must not register the workflows themselves (see soak-workflows). */
export const SOAK_WF = {
  /** Per-second cron: each tick logs its scheduled time. */
  tick: "soak-every-second",
  /** Two synchronous steps, stored at start and end; the second takes a while, as a call to a payment provider does. */
  sync: "soak-sync",
  /** One synchronous step, kept for SHORT_RETENTION_SECONDS: the purge removes it while the soak runs. */
  shortLived: "soak-short-lived",
  /** An async step another instance answers (setStepSuccess), then a synchronous step. */
  answered: "soak-answered",
  /** A step that fails its first attempt, retried after RETRY_INTERVAL_SECONDS (a durable timer). */
  retry: "soak-retry",
  /** An async step nobody answers: it times out after STEP_TIMEOUT_SECONDS. */
  timeout: "soak-timeout",
} as const

export type SoakWorkflow = Exclude<
  (typeof SOAK_WF)[keyof typeof SOAK_WF],
  typeof SOAK_WF.tick
>

/** The async step of SOAK_WF.answered. */
export const ANSWERED_STEP = "soak-wait-answer"
/** The step of SOAK_WF.timeout nobody answers. */
export const TIMED_OUT_STEP = "soak-never-answered"

export const SHORT_RETENTION_SECONDS = 3
export const RETRY_INTERVAL_SECONDS = 1
export const STEP_TIMEOUT_SECONDS = 2
/** Retention of every other soak workflow: longer than any soak. */
export const LONG_RETENTION_SECONDS = 24 * 60 * 60

/** What the soak's steps write to soak_log, one row per invocation. */
export const SOAK_LOG_TABLE = `CREATE TABLE IF NOT EXISTS soak_log (
  id uuid PRIMARY KEY, kind text NOT NULL, key text NOT NULL, step text, attempt int,
  instance text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`
