import { describe, invalidField } from "./invalid-field"

/** The whole numbers a field takes: from `min`, to `max` when there is one. */
export type WholeNumberRange = { min: number; max?: number }

/**
 * What is wrong with `value` as a whole number in `range`, or undefined when
 * nothing is. A whole number here is one JavaScript holds exactly (a safe
 * integer): past 2^53 a number is no longer the one the caller wrote.
 */
export function wholeNumberProblem(
  value: unknown,
  { min, max }: WholeNumberRange
): string | undefined {
  if (
    typeof value === "number" &&
    Number.isSafeInteger(value) &&
    value >= min &&
    (max === undefined || value <= max)
  ) {
    return undefined
  }
  const range = max === undefined ? `>= ${min}` : `from ${min} to ${max}`
  return `must be a whole number ${range}, got ${describe(value)}`
}

/** `value` when it is absent or a whole number in `range`; else the error naming `field`. */
export function wholeNumber(
  subject: string,
  field: string,
  value: unknown,
  range: WholeNumberRange
): number | undefined {
  if (value === undefined) {
    return undefined
  }
  const problem = wholeNumberProblem(value, range)
  if (problem) {
    throw invalidField(subject, field, problem)
  }
  return value as number
}
