import { MedusaError } from "@medusajs/framework/utils"

/** Options of the module, as given in medusa-config under `modules[].options`. */
export type WorkflowEngineOptions = {
  /**
   * Seconds to keep a finished execution of a stored workflow that sets no
   * `retentionTime` of its own. Unset: such executions are removed when they
   * finish, as Medusa's engines do.
   */
  defaultRetentionTime?: number
}

export type ResolvedWorkflowEngineOptions = {
  defaultRetentionSeconds: number | undefined
}

const KNOWN_OPTIONS = new Set<string>(["defaultRetentionTime"])

// Medusa merges these into every module's options; they are not ours to validate.
const FRAMEWORK_OPTIONS = new Set<string>(["database", "redisUrl"])

function invalid(field: string, message: string): MedusaError {
  return new MedusaError(
    MedusaError.Types.INVALID_DATA,
    `Workflow engine (postgres) option "${field}" ${message}`
  )
}

/** Validates the module options once at start and fills in defaults. */
export function resolveOptions(
  options: Record<string, unknown> | undefined = {}
): ResolvedWorkflowEngineOptions {
  for (const key of Object.keys(options ?? {})) {
    if (!KNOWN_OPTIONS.has(key) && !FRAMEWORK_OPTIONS.has(key)) {
      throw invalid(key, `is not a known option (known: ${[...KNOWN_OPTIONS].join(", ")})`)
    }
  }

  const retention = options?.defaultRetentionTime
  if (
    retention !== undefined &&
    (typeof retention !== "number" || !Number.isInteger(retention) || retention < 0)
  ) {
    throw invalid(
      "defaultRetentionTime",
      `must be a whole number of seconds >= 0, got ${JSON.stringify(retention)}`
    )
  }

  return { defaultRetentionSeconds: retention as number | undefined }
}
