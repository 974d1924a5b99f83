import { IdempotencyKeyParts } from "@medusajs/framework/types"
import { MedusaError } from "@medusajs/framework/utils"

/**
 * An async step is addressed by `<workflow id>:<transaction id>:<step id>:<action>`,
 * given either as that string or as its parts.
 */
export function parseIdempotencyKey(
  key: string | IdempotencyKeyParts
): { key: string; parts: IdempotencyKeyParts } {
  if (typeof key !== "string") {
    const { workflowId, transactionId, stepId, action } = key ?? ({} as IdempotencyKeyParts)
    for (const [field, value] of Object.entries({ workflowId, transactionId, stepId })) {
      if (typeof value !== "string" || !value) {
        throw new MedusaError(
          MedusaError.Types.INVALID_DATA,
          `idempotencyKey.${field} must be a non-empty string`
        )
      }
    }
    return { key: [workflowId, transactionId, stepId, action].join(":"), parts: key }
  }

  const [workflowId, transactionId, stepId, action] = key.split(":")
  if (!workflowId || !transactionId || !stepId) {
    throw new MedusaError(
      MedusaError.Types.INVALID_DATA,
      `idempotencyKey must look like "<workflowId>:<transactionId>:<stepId>:<action>", got "${key}"`
    )
  }
  return {
    key,
    parts: { workflowId, transactionId, stepId, action: (action ?? "invoke") as IdempotencyKeyParts["action"] },
  }
}
