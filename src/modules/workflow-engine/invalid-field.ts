import { MedusaError } from "@medusajs/framework/utils"

/**
 * The one error of input a caller got wrong: INVALID_DATA (a 400 from a
 * route), what was given, the field by its path, and what is wrong with it:
 * `Workflow execution filter "created_at.$gt" must be a date, got "soon"`.
 */
export function invalidField(
  subject: string,
  field: string,
  problem: string
): MedusaError {
  return new MedusaError(
    MedusaError.Types.INVALID_DATA,
    `${subject} "${field}" ${problem}`
  )
}

/**
 * Refuses `input` unless it is a plain object (or absent, when `optional`)
 * whose keys are all `known`, naming the first one that is not (as
 * `path` + key). `name` is what the whole input is called when it is no object.
 */
export function checkFields(
  subject: string,
  input: unknown,
  known: readonly string[],
  {
    name = "input",
    path = "",
    optional = false,
  }: { name?: string; path?: string; optional?: boolean } = {}
): Record<string, unknown> {
  if (input === undefined && optional) {
    return {}
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw invalidField(
      subject,
      name,
      `must be an object, got ${describe(input)}`
    )
  }
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) {
      throw invalidField(
        subject,
        path + key,
        `is not known (use ${known.join(", ")})`
      )
    }
  }
  return input as Record<string, unknown>
}

/**
 * A value as an error message shows it: JSON where it can be, its type where
 * JSON cannot say it (a function, a symbol, a bigint, a cycle), so that
 * describing bad input never throws an error of its own instead.
 */
export function describe(value: unknown): string {
  if (
    value === undefined ||
    typeof value === "function" ||
    typeof value === "symbol" ||
    typeof value === "bigint"
  ) {
    return typeof value
  }
  try {
    return JSON.stringify(value)
  } catch {
    return typeof value
  }
}
