/** The restart workflows' ids, for the test process, which must not register the workflows themselves. */
export const RESTART_WF = {
  retryLater: "restart-retry-later",
  gated: "restart-gated",
  gatedInBackground: "restart-gated-in-background",
  quick: "restart-quick",
} as const

/** Seconds between the failed first attempt of RESTART_WF.retryLater and its retry: longer than a restart takes. */
export const RETRY_LATER_SECONDS = 12
