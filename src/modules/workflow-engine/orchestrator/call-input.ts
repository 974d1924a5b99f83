import { checkFields, describe, invalidField } from "../invalid-field"
import {
  CancelOptions,
  RunOptions,
  StepResponseOptions,
} from "./workflow-orchestrator"

/*
 * What Medusa's callers pass to the orchestration methods (its workflows-sdk,
 * its admin routes and core flows, the in-memory and Redis engines' option
 * types), and nothing else: a misspelt key (`transactionID`) would otherwise
 * be ignored, and a run meant to continue a transaction would start another.
 * Each list is a record of the option type's keys, so the compiler keeps them
 * in step with the types.
 */
const FLOW_OPTIONS = {
  context: true,
  throwOnError: true,
  logOnError: true,
  events: true,
  container: true,
} as const
const RUN_OPTIONS: Record<keyof (RunOptions & { runId?: string }), true> = {
  ...FLOW_OPTIONS,
  input: true,
  transactionId: true,
  runId: true,
  resultFrom: true,
}
const STEP_OPTIONS: Record<
  keyof NonNullable<StepResponseOptions["options"]>,
  true
> = {
  ...FLOW_OPTIONS,
  resultFrom: true,
  forcePermanentFailure: true,
}
const CANCEL_OPTIONS: Record<keyof CancelOptions, true> = {
  ...FLOW_OPTIONS,
  transactionId: true,
}

type Kind = "string" | "object" | "boolean" | "function"

// The types the orchestration relies on; everything else it passes on untouched.
const TYPED: Record<string, Kind> = {
  transactionId: "string",
  runId: "string",
  context: "object",
  events: "object",
  container: "object",
  throwOnError: "boolean",
  logOnError: "boolean",
  forcePermanentFailure: "boolean",
  workflowId: "string",
  subscriber: "function",
}

function checkTypes(
  subject: string,
  input: Record<string, unknown>,
  path = ""
): void {
  for (const [key, value] of Object.entries(input)) {
    const kind = TYPED[key]
    if (value === undefined || !kind) {
      continue
    }
    const ok =
      kind === "object"
        ? typeof value === "object" && value !== null
        : typeof value === kind
    if (!ok || (kind === "string" && !value)) {
      throw invalidField(
        subject,
        path + key,
        `must be ${kind === "string" ? "a non-empty string" : `a ${kind}`}, got ${describe(value)}`
      )
    }
  }
}

function checkOptions(
  subject: string,
  options: unknown,
  known: Record<string, true>,
  path = ""
): void {
  checkTypes(
    subject,
    checkFields(subject, options, Object.keys(known), {
      name: path.slice(0, -1) || "options",
      path,
      optional: true,
    }),
    path
  )
}

export function checkRunOptions(options: unknown): void {
  checkOptions("Workflow run option", options, RUN_OPTIONS)
}

export function checkCancelOptions(options: unknown): void {
  checkOptions("Workflow cancel option", options, CANCEL_OPTIONS)
}

/** `{ idempotencyKey, stepResponse, options }` of setStepSuccess / setStepFailure, or without stepResponse for retryStep. */
export function checkStepCall(
  subject: string,
  call: unknown,
  withResponse: boolean
): void {
  const known = withResponse
    ? ["idempotencyKey", "stepResponse", "options"]
    : ["idempotencyKey", "options"]
  const { options } = checkFields(subject, call, known)
  checkOptions(subject, options, STEP_OPTIONS, "options.")
}

export function checkSubscription(args: unknown, subscribing: boolean): void {
  const subject = subscribing ? "Subscription" : "Unsubscription"
  const known = subscribing
    ? ["workflowId", "transactionId", "subscriber", "subscriberId"]
    : ["workflowId", "transactionId", "subscriberOrId"]
  const input = checkFields(subject, args, known, { name: "args" })
  checkTypes(subject, input)
  if (!input.workflowId) {
    throw invalidField(subject, "workflowId", "is required")
  }
  if (subscribing && !input.subscriber) {
    throw invalidField(subject, "subscriber", "is required")
  }
  const { subscriberOrId } = input
  if (
    !subscribing &&
    typeof subscriberOrId !== "string" &&
    typeof subscriberOrId !== "function"
  ) {
    throw invalidField(
      subject,
      "subscriberOrId",
      `must be a subscriber id or function, got ${describe(subscriberOrId)}`
    )
  }
}
