import { describe, invalidField } from "../invalid-field"
import { wholeNumberProblem } from "../whole-number"

/** What a filterable column holds, which decides the values and operators a filter on it may use. */
export type FieldKind =
  | { kind: "text" }
  | { kind: "date" }
  /** A Postgres `integer`. */
  | { kind: "integer" }
  | { kind: "boolean" }
  /** Text from a fixed list; `$like`/`$ilike` take any pattern. */
  | { kind: "enum"; values: ReadonlySet<string> }

/**
 * A model's filterable columns, all its columns (for order and select), and
 * what errors call its filters (`subject`) and its list config.
 */
export type FilterSchema = {
  subject: string
  configSubject: string
  fields: Record<string, FieldKind>
  columns: ReadonlySet<string>
}

/** The part of a Medusa DML model this reads: each property's data type. */
type DmlModel = {
  schema: Record<
    string,
    {
      parse(name: string): {
        dataType: { name: string; options?: { choices?: unknown } }
      }
    }
  >
}

/**
 * The filters a model's columns take, read from the model itself so that a
 * column added to it is filterable with the rules of its type: ids and text
 * as text, enums by their choices, numbers as integers (the DML's `number` is
 * Postgres' integer), booleans, dates. JSON columns are not filterable, nor
 * those `unfiltered` names; every column may be ordered by and selected.
 */
export function filterSchemaOf(
  noun: string,
  model: DmlModel,
  { unfiltered = [] }: { unfiltered?: string[] } = {}
): FilterSchema {
  const fields: Record<string, FieldKind> = {}
  for (const [name, property] of Object.entries(model.schema)) {
    if (unfiltered.includes(name)) {
      continue
    }
    const { dataType } = property.parse(name)
    const kind = KIND_OF_DML_TYPE[dataType.name]
    if (kind === "enum") {
      fields[name] = {
        kind,
        values: new Set(dataType.options?.choices as string[]),
      }
    } else if (kind) {
      fields[name] = { kind }
    }
  }
  return {
    subject: `${noun} filter`,
    configSubject: `${noun} list config`,
    fields,
    columns: new Set(Object.keys(model.schema)),
  }
}

const KIND_OF_DML_TYPE: Record<string, FieldKind["kind"] | undefined> = {
  id: "text",
  text: "text",
  enum: "enum",
  number: "integer",
  boolean: "boolean",
  dateTime: "date",
}

const LIST_OPERATORS = new Set(["$in", "$nin"])
const COMPARISONS = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]
const PATTERN_OPERATORS = new Set(["$like", "$ilike"])
const OPERATORS: Record<FieldKind["kind"], Set<string>> = {
  text: new Set([...COMPARISONS, ...LIST_OPERATORS, ...PATTERN_OPERATORS]),
  enum: new Set([...COMPARISONS, ...LIST_OPERATORS, ...PATTERN_OPERATORS]),
  integer: new Set([...COMPARISONS, ...LIST_OPERATORS]),
  date: new Set(COMPARISONS),
  boolean: new Set(["$eq", "$ne"]),
}

// A filter no row passes: every row has an id, and none is in the empty list.
const NOTHING = { id: { $in: [] } }

/**
 * A plain object, as JSON and object literals make them. Not Medusa's
 * isObject, which reads `constructor.name` and so takes a filter with a
 * key named `constructor` for something else.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    Object.prototype.toString.call(value) === "[object Object]"
  )
}

// Postgres' integer: a number past it fails in SQL instead of matching nothing.
const MIN_INTEGER = -(2 ** 31)
const MAX_INTEGER = 2 ** 31 - 1

// The ORM sends a Date as ISO 8601 text, which Postgres reads for the years 1 to 9999 only
// (JavaScript writes others as "+275760-…" or "-004713-…"): a date outside fails the statement.
const EARLIEST_DATE = "0001-01-01T00:00:00.000Z"
const LATEST_DATE = "9999-12-31T23:59:59.999Z"

/**
 * Checks a caller's filters against the schema: known columns only, each
 * with a value, a list or an operator map its kind allows, nested in
 * `$and`/`$or` arrays at any depth. Anything else is refused with the field
 * named, before it gets near SQL. Returns the filters to query with: date
 * strings become Dates, so that the database compares the very instant this
 * check read, and filters that hold for every row are `{}` (see combine).
 */
export function checkFilters(
  schema: FilterSchema,
  filters: Record<string, unknown>,
  path = ""
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(filters)) {
    const name = path + field
    if (value === undefined) {
      continue
    }
    if (field === "$and" || field === "$or") {
      if (!Array.isArray(value)) {
        throw invalidField(schema.subject, name, "must be an array of filters")
      }
      const inners = value.map((inner, i) => {
        if (!isRecord(inner)) {
          throw invalidField(
            schema.subject,
            `${name}[${i}]`,
            `must be an object, got ${describe(inner)}`
          )
        }
        return checkFilters(
          schema,
          inner as Record<string, unknown>,
          `${name}[${i}].`
        )
      })
      const logical = combine(field, inners)
      if (logical) {
        out[field] = logical
      }
      continue
    }
    const kind = Object.prototype.hasOwnProperty.call(schema.fields, field)
      ? schema.fields[field]
      : undefined
    if (!kind) {
      throw invalidField(
        schema.subject,
        name,
        `is not a filterable field (use one of ${Object.keys(schema.fields).join(", ")})`
      )
    }
    const checked = checkValueOrOperators(schema.subject, name, kind, value)
    if (!isEmptyMap(checked)) {
      out[field] = checked
    }
  }
  return out
}

/*
 * The ORM drops an empty filter where it stands, which changes what `$or`
 * means: `{ $or: [{}, { state: "done" }] }` holds for every row (its first
 * alternative does), but with `{}` dropped it picks the done ones only; and
 * an empty `$or` holds for no row, but dropped it picks them all. So the
 * filters are put in terms the ORM keeps as they are: a filter that holds for
 * every row is `{}` and left out of an `$and`, it makes its `$or` hold (the
 * `$or` is left out), and an `$or` of nothing is one no row passes.
 * Returns undefined for a `$and`/`$or` that holds for every row.
 */
function combine(
  operator: string,
  inners: Record<string, unknown>[]
): Record<string, unknown>[] | undefined {
  if (operator === "$and") {
    const conditions = inners.filter((inner) => !isEmptyMap(inner))
    return conditions.length ? conditions : undefined
  }
  if (inners.some(isEmptyMap)) {
    return undefined
  }
  return inners.length ? inners : [NOTHING]
}

const isEmptyMap = (value: unknown) =>
  isRecord(value) && !Object.keys(value as object).length

function checkValueOrOperators(
  subject: string,
  name: string,
  kind: FieldKind,
  value: unknown
): unknown {
  if (Array.isArray(value)) {
    // A list is `$in` written short, for the kinds that take `$in`.
    if (!OPERATORS[kind.kind].has("$in")) {
      throw invalidField(
        subject,
        name,
        `must be one value or an operator map, got a list`
      )
    }
    return value.map((v, i) => checkOperand(subject, `${name}[${i}]`, kind, v))
  }
  if (!isRecord(value)) {
    return checkOperand(subject, name, kind, value)
  }
  const out: Record<string, unknown> = {}
  for (const [operator, operand] of Object.entries(
    value as Record<string, unknown>
  )) {
    const at = `${name}.${operator}`
    if (!OPERATORS[kind.kind].has(operator)) {
      throw invalidField(
        subject,
        at,
        `is not an operator for this field (use ${[...OPERATORS[kind.kind]].join(", ")})`
      )
    }
    if (LIST_OPERATORS.has(operator)) {
      if (!Array.isArray(operand)) {
        throw invalidField(
          subject,
          at,
          `must be an array, got ${describe(operand)}`
        )
      }
      out[operator] = operand.map((v, i) =>
        checkOperand(subject, `${at}[${i}]`, kind, v)
      )
    } else if (PATTERN_OPERATORS.has(operator)) {
      out[operator] = checkPattern(subject, at, operand)
    } else {
      out[operator] = checkOperand(subject, at, kind, operand)
    }
  }
  return out
}

function checkOperand(
  subject: string,
  name: string,
  kind: FieldKind,
  value: unknown
): unknown {
  const fail = (expected: string) =>
    invalidField(subject, name, `must be ${expected}, got ${describe(value)}`)
  switch (kind.kind) {
    case "text":
      return checkText(subject, name, value)
    case "enum":
      if (typeof value !== "string" || !kind.values.has(value)) {
        throw fail(`one of ${[...kind.values].join(", ")}`)
      }
      return value
    case "integer": {
      const problem = wholeNumberProblem(value, {
        min: MIN_INTEGER,
        max: MAX_INTEGER,
      })
      if (problem) {
        throw invalidField(subject, name, problem)
      }
      return value
    }
    case "boolean":
      if (typeof value !== "boolean") {
        throw fail("true or false")
      }
      return value
    case "date": {
      const time =
        value instanceof Date
          ? value.getTime()
          : typeof value === "string"
            ? Date.parse(value)
            : NaN
      if (isNaN(time)) {
        throw fail("a date (a Date or a date string)")
      }
      if (time < Date.parse(EARLIEST_DATE) || time > Date.parse(LATEST_DATE)) {
        throw fail(`a date from ${EARLIEST_DATE} to ${LATEST_DATE}`)
      }
      return new Date(time)
    }
  }
}

/**
 * A string Postgres can take as it is: its text cannot hold NUL (the
 * statement would fail instead of matching nothing), and a lone UTF-16
 * surrogate would reach it as U+FFFD and match another string than the one given.
 */
export function checkText(
  subject: string,
  name: string,
  value: unknown
): string {
  if (typeof value !== "string") {
    throw invalidField(
      subject,
      name,
      `must be a string, got ${describe(value)}`
    )
  }
  if (value.includes("\u0000")) {
    throw invalidField(
      subject,
      name,
      "must not contain a NUL character (\\u0000)"
    )
  }
  if (LONE_SURROGATE.test(value)) {
    throw invalidField(
      subject,
      name,
      "must be well-formed Unicode (it has a lone UTF-16 surrogate)"
    )
  }
  return value
}

const LONE_SURROGATE = /\p{Surrogate}/u

/** A LIKE pattern: `%` and `_` are wildcards, `\` escapes the next character, so it may not be the last one. */
function checkPattern(subject: string, name: string, value: unknown): string {
  const pattern = checkText(subject, name, value)
  let escaped = false
  for (const char of pattern) {
    escaped = !escaped && char === "\\"
  }
  if (escaped) {
    throw invalidField(
      subject,
      name,
      "must not end with the escape character \\ (write \\\\ for a backslash)"
    )
  }
  return pattern
}
