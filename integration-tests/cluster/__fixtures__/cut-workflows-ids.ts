/** The cut-run workflows' ids, for the test process, which must not register the workflows themselves. */
export const CUT_WF = {
  /** reserve, then a charge with retries after an interval (a durable timer) */
  retry: "cut-retry",
  /** reserve, then a synchronous step with a step timeout */
  stepTimeout: "cut-step-timeout",
  /** reserve, then an async step answered from outside, with a step timeout */
  asyncTimeout: "cut-async-timeout",
  /** a transaction timeout: reserve, an async step answered from outside, a last step */
  transactionTimeout: "cut-transaction-timeout",
  /** reserve, then a step that always fails: the run compensates the reservation */
  compensating: "cut-compensating",
  /** three plain synchronous steps: stored at its start and its end only */
  sync: "cut-sync",
} as const

/** Step names, as the cluster log and the idempotency keys name them. */
export const CUT_STEP = {
  reserve: "cut-reserve",
  charge: "cut-charge",
  slow: "cut-slow",
  ask: "cut-ask",
  askBeforeTimeout: "cut-ask-before-timeout",
  finish: "cut-finish",
  refuse: "cut-refuse",
  hold: "cut-hold",
  after: "cut-after",
} as const

/** Seconds between a failed charge and its retry: the test kills its instance before the retry is due. */
export const CUT_RETRY_SECONDS = 3
/** The async step's timeout, in seconds, when nobody answers it. */
export const CUT_ASYNC_TIMEOUT_SECONDS = 15

/*
 * What a step does is told by its run's transaction id, `<behaviour>-<anything>`:
 * - `hang-`: in the instance named "doomed", the cut step never ends (it is running when the instance dies);
 * - `failonce-`: the charge fails its first attempt (after the test releases its gate, in the doomed instance);
 * - `comphang-`: in the doomed instance, the reservation's compensation never ends;
 * - `held-`: in the instance named "paused", the cut step waits until the test releases its gate.
 */
export const behaviourOf = (key: string) => key.split("-")[0]
