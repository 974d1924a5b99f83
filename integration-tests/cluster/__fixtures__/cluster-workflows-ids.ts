/** The cluster workflows' ids, for the test process, which must not register the workflows themselves. */
export const CLUSTER_WF = {
  tick: "cluster-every-second",
  retry: "cluster-retry-after-kill",
  timeout: "cluster-async-timeout",
} as const
