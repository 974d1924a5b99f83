import { Client } from "pg"

/**
 * Rows of `workflow_execution` shaped like the ones Medusa's engines write:
 * `execution` is the serialized transaction flow, `context` holds
 * `{ data: { payload, invoke, compensate }, errors }`, ids are `wf_exec_…`
 * and runs are told apart by `run_id` (a ULID).
 */

type StepStates = { invoke: string; compensate: string }

function step(
  workflowId: string,
  name: string,
  depth: number,
  { invoke, compensate }: StepStates,
  next: string[],
  extra: Record<string, unknown> = {}
) {
  const id = depth === 0 ? "_root" : `_root.${name}`
  return [
    id,
    {
      id,
      uuid: `${workflowId}-${name}-uuid`,
      depth,
      definition:
        depth === 0
          ? { next: [] }
          : {
              uuid: `${workflowId}-${name}-uuid`,
              action: name,
              store: true,
              ...extra,
            },
      saveResponse: true,
      invoke: {
        state: invoke,
        status: invoke === "invoking" ? "waiting_response" : "idle",
      },
      compensate: { state: compensate, status: "idle" },
      attempts: invoke === "not_started" ? 0 : 1,
      failures: invoke === "failed" ? 1 : 0,
      lastAttempt: invoke === "not_started" ? null : 1764064800000,
      next,
      stepFailed: invoke === "failed",
      startedAt: invoke === "not_started" ? undefined : 1764064800000,
      _v: 0,
    },
  ] as const
}

function flow(
  workflowId: string,
  transactionId: string,
  runId: string | undefined,
  state: string,
  steps: ReturnType<typeof step>[],
  options: Record<string, unknown>,
  flags: Partial<
    Record<"hasAsyncSteps" | "hasFailedSteps" | "hasRevertedSteps", boolean>
  > = {}
) {
  return {
    modelId: workflowId,
    options,
    transactionId,
    ...(runId ? { runId } : {}),
    metadata: {
      eventGroupId: `01KAWEVT${transactionId.toUpperCase().replace(/[^A-Z0-9]/g, "")}`,
      sourcePath: "/app/src/workflows",
    },
    hasAsyncSteps: false,
    hasFailedSteps: false,
    hasSkippedOnFailureSteps: false,
    hasSkippedSteps: false,
    hasWaitingSteps: false,
    hasRevertedSteps: false,
    timedOutAt: null,
    startedAt: 1764064800000,
    state,
    definition: { next: steps.slice(1).map(([, s]) => s.definition) },
    steps: Object.fromEntries(steps),
    _v: 0,
    ...flags,
  }
}

export type MedusaRow = {
  id: string
  workflow_id: string
  transaction_id: string
  run_id: string
  execution: Record<string, any>
  context: Record<string, any>
  state: string
  retention_time: number | null
  created_at: string
  updated_at: string
  /** Set on a run soft-deleted through the module's service (MedusaService's softDelete); absent on a live one. */
  deleted_at?: string | null
}

export const MEDUSA_WORKFLOW = {
  order: "medusa-fixture-complete-order",
  payment: "medusa-fixture-capture-payment",
  fulfillment: "medusa-fixture-create-fulfillment",
} as const

/** Five runs: two done runs of one transaction, a failed one, a reverted one and one waiting on an async step. */
export function medusaRows(): MedusaRow[] {
  const wf = MEDUSA_WORKFLOW
  const done: StepStates = { invoke: "done", compensate: "dormant" }
  const order = (runId: string, cartId: string) => ({
    ...flow(
      wf.order,
      "cart_01KAWC0RDER",
      runId,
      "done",
      [
        step(wf.order, "root", 0, done, ["_root.validate-cart"]),
        step(wf.order, "validate-cart", 1, done, ["_root.create-order"]),
        step(wf.order, "create-order", 2, done, []),
      ],
      { name: wf.order, store: true, retentionTime: 3600, idempotent: false }
    ),
    metadata: { eventGroupId: `evt_${runId}`, cartId },
  })

  return [
    {
      id: "wf_exec_01KAWA0000000000000000000A",
      workflow_id: wf.order,
      transaction_id: "cart_01KAWC0RDER",
      run_id: "01KAWA0000RUN0000000000001",
      execution: order("01KAWA0000RUN0000000000001", "cart_01KAWC0RDER"),
      context: {
        data: {
          payload: { cart_id: "cart_01KAWC0RDER" },
          invoke: {
            "validate-cart": {
              output: { output: { valid: true }, compensateInput: null },
              __type: "Symbol(WorkflowWorkflowData)",
            },
            "create-order": {
              output: {
                output: { id: "order_01KAWORDER1" },
                compensateInput: "order_01KAWORDER1",
              },
              __type: "Symbol(WorkflowWorkflowData)",
            },
          },
          compensate: {},
        },
        errors: [],
      },
      state: "done",
      retention_time: 3600,
      created_at: "2025-11-20T10:00:00.000Z",
      updated_at: "2025-11-20T10:00:01.250Z",
    },
    {
      // The same transaction run again later: a new run_id, the previous row kept.
      id: "wf_exec_01KAWA0000000000000000000B",
      workflow_id: wf.order,
      transaction_id: "cart_01KAWC0RDER",
      run_id: "01KAWA0000RUN0000000000002",
      execution: order("01KAWA0000RUN0000000000002", "cart_01KAWC0RDER"),
      context: {
        data: {
          payload: { cart_id: "cart_01KAWC0RDER" },
          invoke: {
            "validate-cart": {
              output: { output: { valid: true }, compensateInput: null },
              __type: "Symbol(WorkflowWorkflowData)",
            },
            "create-order": {
              output: {
                output: { id: "order_01KAWORDER2" },
                compensateInput: "order_01KAWORDER2",
              },
              __type: "Symbol(WorkflowWorkflowData)",
            },
          },
          compensate: {},
        },
        errors: [],
      },
      state: "done",
      retention_time: 3600,
      created_at: "2025-11-21T09:30:00.000Z",
      updated_at: "2025-11-21T09:30:00.800Z",
    },
    {
      id: "wf_exec_01KAWA0000000000000000000C",
      workflow_id: wf.payment,
      transaction_id: "pay_01KAWPAYMENT",
      run_id: "01KAWA0000RUN0000000000003",
      execution: flow(
        wf.payment,
        "pay_01KAWPAYMENT",
        "01KAWA0000RUN0000000000003",
        "failed",
        [
          step(wf.payment, "root", 0, done, ["_root.authorize"]),
          step(
            wf.payment,
            "authorize",
            1,
            { invoke: "done", compensate: "failed" },
            ["_root.capture"]
          ),
          step(
            wf.payment,
            "capture",
            2,
            { invoke: "failed", compensate: "reverted" },
            [],
            { maxRetries: 0 }
          ),
        ],
        { name: wf.payment, store: true, retentionTime: 86400 },
        { hasFailedSteps: true }
      ),
      context: {
        data: {
          payload: { payment_id: "pay_01KAWPAYMENT", amount: 4200 },
          invoke: {
            authorize: {
              output: {
                output: { authorized: true },
                compensateInput: "pay_01KAWPAYMENT",
              },
              __type: "Symbol(WorkflowWorkflowData)",
            },
          },
          compensate: {},
        },
        errors: [
          {
            action: "capture",
            handlerType: "invoke",
            error: {
              message: "Card declined",
              name: "Error",
              stack:
                "Error: Card declined\n    at capture (/app/src/workflows/steps/capture.ts:12:11)",
            },
          },
          {
            action: "authorize",
            handlerType: "compensate",
            error: {
              message: "Provider unreachable",
              name: "Error",
              stack: "Error: Provider unreachable",
            },
          },
        ],
      },
      state: "failed",
      retention_time: 86400,
      created_at: "2025-11-22T14:00:00.000Z",
      updated_at: "2025-11-22T14:00:02.000Z",
    },
    {
      id: "wf_exec_01KAWA0000000000000000000D",
      workflow_id: wf.payment,
      transaction_id: "pay_01KAWREFUND",
      run_id: "01KAWA0000RUN0000000000004",
      execution: flow(
        wf.payment,
        "pay_01KAWREFUND",
        "01KAWA0000RUN0000000000004",
        "reverted",
        [
          step(wf.payment, "root", 0, done, ["_root.authorize"]),
          step(
            wf.payment,
            "authorize",
            1,
            { invoke: "done", compensate: "reverted" },
            ["_root.capture"]
          ),
          step(
            wf.payment,
            "capture",
            2,
            { invoke: "failed", compensate: "reverted" },
            []
          ),
        ],
        { name: wf.payment, store: true, retentionTime: 86400 },
        { hasFailedSteps: true, hasRevertedSteps: true }
      ),
      context: {
        data: {
          payload: { payment_id: "pay_01KAWREFUND", amount: 990 },
          invoke: {},
          compensate: { authorize: { released: true } },
        },
        errors: [
          {
            action: "capture",
            handlerType: "invoke",
            error: { message: "Amount mismatch", name: "Error" },
          },
        ],
      },
      state: "reverted",
      retention_time: 86400,
      created_at: "2025-11-23T08:00:00.000Z",
      updated_at: "2025-11-23T08:00:00.500Z",
    },
    {
      // Waiting for an async step (e.g. a webhook): in flight, no retention.
      id: "wf_exec_01KAWA0000000000000000000E",
      workflow_id: wf.fulfillment,
      transaction_id: "ful_01KAWSHIPMENT",
      run_id: "01KAWA0000RUN0000000000005",
      execution: flow(
        wf.fulfillment,
        "ful_01KAWSHIPMENT",
        "01KAWA0000RUN0000000000005",
        "invoking",
        [
          step(wf.fulfillment, "root", 0, done, ["_root.create-label"]),
          step(wf.fulfillment, "create-label", 1, done, [
            "_root.wait-for-carrier",
          ]),
          step(
            wf.fulfillment,
            "wait-for-carrier",
            2,
            { invoke: "invoking", compensate: "dormant" },
            [],
            { async: true }
          ),
        ],
        { name: wf.fulfillment, store: true },
        { hasAsyncSteps: true }
      ),
      context: {
        data: {
          payload: { fulfillment_id: "ful_01KAWSHIPMENT" },
          invoke: {
            "create-label": {
              output: { output: { label: "1Z999" }, compensateInput: "1Z999" },
              __type: "Symbol(WorkflowWorkflowData)",
            },
          },
          compensate: {},
        },
        errors: [],
      },
      state: "invoking",
      retention_time: null,
      created_at: "2025-11-24T16:45:00.000Z",
      updated_at: "2025-11-24T16:45:00.300Z",
    },
  ]
}

const MINUTE = 60 * 1000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/**
 * Another run like `template` (same workflow and state), as Medusa's engine
 * writes it: its own id and run_id (in the row and in the flow), last updated
 * `ago` milliseconds before `now`, with `retention` seconds (null: none, and
 * none in the workflow options either, so nothing can fill it from there).
 */
function anotherRun(
  template: MedusaRow,
  n: number,
  {
    now,
    ago,
    retention,
    transactionId = template.transaction_id,
  }: {
    now: number
    ago: number
    retention: number | null
    transactionId?: string
  }
): MedusaRow {
  const suffix = String(n).padStart(2, "0")
  const runId = `01KAWB0000RUN00000000000${suffix}`
  const { retentionTime: _, ...options } = template.execution.options
  return {
    ...template,
    id: `wf_exec_01KAWB000000000000000000${suffix}`,
    transaction_id: transactionId,
    run_id: runId,
    execution: {
      ...template.execution,
      transactionId,
      runId,
      options:
        retention === null ? options : { ...options, retentionTime: retention },
    },
    retention_time: retention,
    created_at: new Date(now - ago - 1500).toISOString(),
    updated_at: new Date(now - ago).toISOString(),
  }
}

/**
 * Runs Medusa's engine wrote around their expiry, relative to `now`: Medusa
 * expires a finished run `retention_time` seconds after its last update and
 * never one in flight. Three are past their retention (done, failed,
 * reverted); one finished recently; one finished long ago without retention;
 * one has been waiting a month for an async step and carries the retention it
 * will get when it finishes (Medusa writes it at every checkpoint).
 */
export function medusaRowsAroundExpiry(now: number = Date.now()) {
  const [order, , payment, refund, shipment] = medusaRows()
  const rows = {
    expiredDone: anotherRun(order, 1, { now, ago: 2 * HOUR, retention: 3600 }),
    expiredFailed: anotherRun(payment, 2, {
      now,
      ago: 2 * DAY,
      retention: 86400,
    }),
    expiredReverted: anotherRun(refund, 3, {
      now,
      ago: 25 * HOUR,
      retention: 86400,
    }),
    recentDone: anotherRun(order, 4, {
      now,
      ago: 10 * MINUTE,
      retention: 3600,
    }),
    doneWithoutRetention: anotherRun(order, 5, {
      now,
      ago: 90 * DAY,
      retention: null,
    }),
    longInFlight: anotherRun(shipment, 6, {
      now,
      ago: 30 * DAY,
      retention: 3600,
    }),
  }
  return { ...rows, all: Object.values(rows) }
}

/**
 * Runs an instance still on Medusa's engine writes during a rolling deploy,
 * after our migrations ran: two finished ones (no `expires_at`: Medusa's
 * engine does not know the column) and one still in flight.
 */
export function medusaRowsDuringDeploy(now: number = Date.now()) {
  const [order, , payment, , shipment] = medusaRows()
  const rows = {
    finishedDone: anotherRun(order, 11, {
      now,
      ago: 5 * MINUTE,
      retention: 3600,
    }),
    finishedFailed: anotherRun(payment, 12, {
      now,
      ago: 3 * HOUR,
      retention: 86400,
    }),
    inFlight: anotherRun(shipment, 13, {
      now,
      ago: MINUTE,
      retention: 3600,
      transactionId: "ful_01KAWDEPLOY",
    }),
  }
  return { ...rows, all: Object.values(rows) }
}

/**
 * Medusa's five runs and two more it soft-deleted (deleted_at set, as the
 * service's softDelete does): a failed payment, whose workflow and state also
 * have a live run, and a reverted order, the only one of its workflow and
 * state. The table keeps them; they are no longer live runs.
 */
export function medusaRowsWithSoftDeleted(now: number = Date.now()) {
  const live = medusaRows()
  const [order, , payment] = live
  const softDeletedFailed: MedusaRow = {
    ...anotherRun(payment, 21, { now, ago: 4 * DAY, retention: 86400 }),
    deleted_at: new Date(now - DAY).toISOString(),
  }
  const reverted = anotherRun(order, 22, { now, ago: 3 * DAY, retention: 3600 })
  const softDeletedReverted: MedusaRow = {
    ...reverted,
    state: "reverted",
    execution: { ...reverted.execution, state: "reverted" },
    deleted_at: new Date(now - DAY).toISOString(),
  }
  return {
    live,
    softDeletedFailed,
    softDeletedReverted,
    all: [...live, softDeletedFailed, softDeletedReverted],
  }
}

/**
 * Inserts rows with the columns the table has: a table left by Medusa's first
 * migration has neither `run_id` nor `retention_time`, and its flows carry no
 * `runId` (runs did not exist yet).
 */
export async function insertMedusaRows(
  client: Client,
  rows: MedusaRow[],
  { legacy = false }: { legacy?: boolean } = {}
): Promise<void> {
  for (const row of rows) {
    const execution = legacy ? withoutRunId(row.execution) : row.execution
    const values: unknown[] = [
      row.id,
      row.workflow_id,
      row.transaction_id,
      JSON.stringify(execution),
      JSON.stringify(row.context),
      row.state,
      row.created_at,
      row.updated_at,
      row.deleted_at ?? null,
    ]
    if (legacy) {
      await client.query(
        `INSERT INTO workflow_execution
           (id, workflow_id, transaction_id, execution, context, state, created_at, updated_at, deleted_at)
         VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9)`,
        values
      )
    } else {
      await client.query(
        `INSERT INTO workflow_execution
           (id, workflow_id, transaction_id, execution, context, state, created_at, updated_at, deleted_at, run_id, retention_time)
         VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11)`,
        [...values, row.run_id, row.retention_time]
      )
    }
  }
}

function withoutRunId(execution: Record<string, any>): Record<string, any> {
  const { runId: _, ...rest } = execution
  return rest
}
