import { IdempotencyKeyParts } from "@medusajs/framework/types"
import { checkFields, describe, invalidField } from "../invalid-field"

const SUBJECT = "Step"
const ACTIONS = ["invoke", "compensate"]

/**
 * An async step is addressed by `<workflow id>:<transaction id>:<step id>:<action>`,
 * given either as that string or as its parts.
 */
export function parseIdempotencyKey(key: string | IdempotencyKeyParts): {
  key: string
  parts: IdempotencyKeyParts
} {
  if (typeof key !== "string") {
    const parts = checkFields(
      SUBJECT,
      key,
      ["workflowId", "transactionId", "stepId", "action"],
      {
        name: "idempotencyKey",
        path: "idempotencyKey.",
      }
    ) as IdempotencyKeyParts
    const { workflowId, transactionId, stepId, action } = parts
    for (const [field, value] of Object.entries({
      workflowId,
      transactionId,
      stepId,
    })) {
      if (typeof value !== "string" || !value) {
        throw invalidField(
          SUBJECT,
          `idempotencyKey.${field}`,
          `must be a non-empty string, got ${describe(value)}`
        )
      }
    }
    if (action !== undefined && !ACTIONS.includes(action)) {
      throw invalidField(
        SUBJECT,
        "idempotencyKey.action",
        `must be ${ACTIONS.join(" or ")}, got ${describe(action)}`
      )
    }
    return { key: [workflowId, transactionId, stepId, action].join(":"), parts }
  }

  const [workflowId, transactionId, stepId, action] = key.split(":")
  if (
    !workflowId ||
    !transactionId ||
    !stepId ||
    (action !== undefined && !ACTIONS.includes(action))
  ) {
    throw invalidField(
      SUBJECT,
      "idempotencyKey",
      `must look like "<workflowId>:<transactionId>:<stepId>:<${ACTIONS.join("|")}>", got ${describe(key)}`
    )
  }
  return {
    key,
    parts: {
      workflowId,
      transactionId,
      stepId,
      action: (action ?? "invoke") as IdempotencyKeyParts["action"],
    },
  }
}
