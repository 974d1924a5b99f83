/** The event tests' workflow ids, for the test process, which must not register the workflows themselves. */
export const EVENT_WF = {
  /** A stored run whose one step always fails: it ends reverted, and is removed (no retention). */
  fails: "cluster-event-fails",
} as const
