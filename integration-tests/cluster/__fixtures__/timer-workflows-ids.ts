/** The timer spec's workflow ids, for the test process, which must not register the workflows themselves. */
export const TIMER_WF = {
  /** its step fails its first attempt and is retried RETRY_SECONDS later */
  retry: "timer-spec-retry",
} as const

export const RETRY_SECONDS = 5
