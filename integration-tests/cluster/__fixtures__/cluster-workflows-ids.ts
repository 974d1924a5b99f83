/** The cluster workflows' ids, for the test process, which must not register the workflows themselves. */
export const CLUSTER_WF = {
  tick: "cluster-every-second",
  retry: "cluster-retry-after-kill",
  timeout: "cluster-async-timeout",
  answer: "cluster-waits-for-answer",
  /** an async step whose handler returns at once, answered from outside */
  quietAnswer: "cluster-waits-quietly",
  background: "cluster-background-step",
  sync: "cluster-sync-steps",
  startedOnce: "cluster-started-once",
} as const

/** The async step of CLUSTER_WF.answer, which another instance answers. */
export const ANSWERED_STEP = "cluster-wait-answer"

/** The async step of CLUSTER_WF.quietAnswer. */
export const QUIET_STEP = "cluster-wait-quietly"
