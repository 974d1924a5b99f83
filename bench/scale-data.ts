import type { Knex } from "@medusajs/framework/mikro-orm/knex"

/**
 * One million executions as a store accumulates them: ~20 workflows of very
 * different popularity, mostly finished runs with some failures, reverts and
 * runs still in flight, 30 days of created_at, ~2 KB of JSON per row. Each
 * input names an order (4 runs per order, orderOf) and a customer (one of
 * CUSTOMERS, ~40 runs each), as Medusa's order and cart workflows do.
 *
 * Every value derives from the row number alone, so two databases filled by
 * this generator hold exactly the same rows.
 */
export const WORKFLOW_IDS = [
  "create-cart",
  "update-cart",
  "add-to-cart",
  "complete-cart",
  "create-payment-session",
  "authorize-payment",
  "capture-payment",
  "create-order",
  "create-fulfillment",
  "create-shipment",
  "cancel-order",
  "create-return",
  "receive-return",
  "refund-payment",
  "update-inventory-levels",
  "reserve-inventory",
  "send-order-confirmation",
  "sync-product-catalog",
  "import-products",
  "export-orders",
]

/** Customers the runs are spread over. */
export const CUSTOMERS = 25_000

/** The order id of row `i`'s input, as the generator writes it (SQL below). */
export const orderOf = (i: number) => `order_bench_${Math.floor(i / 4)}`

/** The customer id of row `i`'s input. */
export const customerOf = (i: number) => `cus_bench_${i % CUSTOMERS}`

// Per mille of rows in each state; the rest are done.
const STATES: [string, number][] = [
  ["failed", 40],
  ["reverted", 20],
  ["invoking", 8],
  ["waiting_to_compensate", 2],
  ["compensating", 2],
  ["not_started", 1],
]

const step = (name: string) => ({
  id: `_root.${name}`,
  uuid: "__UUID__",
  depth: 1,
  invoke: { state: "__STEP_STATE__", status: "ok" },
  compensate: { state: "dormant", status: "idle" },
  definition: {
    uuid: "__UUID__",
    action: name,
    store: true,
    retryInterval: null,
    noCompensation: false,
  },
  attempts: 1,
  failures: 0,
  startedAt: 1764000000000,
  lastAttempt: 1764000000012,
  saveResponse: true,
  _result: null,
})

// The serialized flow and context Medusa's engines write for a 5-step run.
const EXECUTION = JSON.stringify({
  state: "__STATE__",
  modelId: "__WORKFLOW__",
  options: {
    name: "__WORKFLOW__",
    store: true,
    retentionTime: 604800,
    idempotent: false,
  },
  metadata: {
    eventGroupId: "__EVENT_GROUP__",
    parentStepIdempotencyKey: null,
    sourcePath: "/app/src/workflows/index.ts",
  },
  startedAt: 1764000000000,
  definition: {
    next: ["validate", "prepare", "apply", "notify", "finish"].map(
      (action) => ({ uuid: "__UUID__", action })
    ),
  },
  timedOutAt: null,
  hasAsyncSteps: false,
  transactionId: "__TRANSACTION__",
  hasFailedSteps: false,
  hasSkippedSteps: false,
  hasWaitingSteps: false,
  hasRevertedSteps: false,
  hasSkippedOnFailureSteps: false,
  steps: Object.fromEntries(
    ["validate", "prepare", "apply", "notify", "finish"].map((name) => [
      `_root.${name}`,
      step(name),
    ])
  ),
})

const CONTEXT = JSON.stringify({
  data: {
    invoke: {
      validate: {
        __type: "Symbol(WorkflowWorkflowData)",
        output: {
          __type: "Symbol(WorkflowStepResponse)",
          output: { id: "__TRANSACTION__", valid: true },
        },
      },
      prepare: {
        __type: "Symbol(WorkflowWorkflowData)",
        output: { items: [{ id: "item_01", quantity: 2, unit_price: 2500 }] },
      },
    },
    payload: {
      id: "__TRANSACTION__",
      order_id: "__ORDER__",
      customer_id: "__CUSTOMER__",
      currency_code: "eur",
      region_id: "reg_01JBENCHREGION000000000000",
    },
    compensate: {},
  },
  errors: [],
})

/** Fills `bench_scale_rows` (a plain table both databases copy from) with `rows` executions. */
export async function generateRows(db: Knex, rows: number): Promise<void> {
  const stateCase =
    STATES.reduce((sql, [state, perMille], i) => {
      const upTo = STATES.slice(0, i + 1).reduce((sum, [, p]) => sum + p, 0)
      return `${sql} WHEN r.pick < ${upTo} THEN '${state}'`
    }, "CASE") + " ELSE 'done' END"

  await db.raw(`DROP TABLE IF EXISTS bench_scale_rows`)
  await db.raw(
    `CREATE UNLOGGED TABLE bench_scale_rows AS
     SELECT 'wf_exec_' || upper(substr(md5('id' || i), 1, 26)) AS id,
            wf.workflow_id,
            'auto-' || upper(substr(md5('tx' || i), 1, 26)) AS transaction_id,
            upper(substr(md5('run' || i), 1, 26)) AS run_id,
            replace(replace(replace(replace(replace(replace(?::text,
              '__STATE__', st.state), '__WORKFLOW__', wf.workflow_id), '__TRANSACTION__', 'auto-' || upper(substr(md5('tx' || i), 1, 26))),
              '__UUID__', md5('uuid' || i)), '__EVENT_GROUP__', upper(substr(md5('eg' || i), 1, 26))),
              '__STEP_STATE__', CASE WHEN st.state = 'done' THEN 'done' ELSE 'failed' END)::jsonb AS execution,
            replace(replace(replace(?::text, '__TRANSACTION__', 'auto-' || upper(substr(md5('tx' || i), 1, 26))),
              '__ORDER__', 'order_bench_' || (i / 4)), '__CUSTOMER__', 'cus_bench_' || (i % ${CUSTOMERS}))::jsonb AS context,
            st.state,
            604800 AS retention_time,
            t.created_at,
            t.created_at + interval '120 milliseconds' AS updated_at
       FROM generate_series(1, ?) AS i,
            -- A fixed clock, not now(): reruns and both databases get the same rows.
            LATERAL (SELECT timestamp '2026-11-25 00:00:00' - (? - i) * (interval '30 days' / ?) AS created_at) AS t,
            LATERAL (SELECT abs(hashint4(i)) % 1000 AS pick, abs(hashint4(i * 7 + 3)) % 1000 AS popular) AS r,
            -- Zipf-like popularity: the first workflows get most of the runs.
            LATERAL (SELECT (?::text[])[1 + floor(power(r.popular / 1000.0, 2.2) * 20)::int] AS workflow_id) AS wf,
            LATERAL (SELECT ${stateCase} AS state) AS st`,
    [EXECUTION, CONTEXT, rows, rows, rows, WORKFLOW_IDS]
  )
}

/** Copies the generated rows into a workflow_execution table, oldest first like a live store. */
export async function loadRows(db: Knex, hasExpiry: boolean): Promise<void> {
  const expiry = hasExpiry ? `, expires_at` : ""
  const expiryValue = hasExpiry
    ? `, CASE WHEN state IN ('done', 'failed', 'reverted') THEN updated_at + interval '604800 seconds' END`
    : ""
  await db.raw(
    `INSERT INTO workflow_execution (id, workflow_id, transaction_id, run_id, execution, context, state,
                                     retention_time, created_at, updated_at${expiry})
     SELECT id, workflow_id, transaction_id, run_id, execution, context, state,
            retention_time, created_at, updated_at${expiryValue}
       FROM bench_scale_rows ORDER BY created_at`
  )
}
