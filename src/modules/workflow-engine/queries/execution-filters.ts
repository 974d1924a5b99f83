import { FilterableWorkflowExecutionProps, FindConfig, WorkflowExecutionDTO } from "@medusajs/framework/types"
import { isObject, MedusaError, TransactionState } from "@medusajs/framework/utils"
import type { TransactionMatch } from "./sql/transactions-matching"

const TEXT_FIELDS = new Set(["id", "workflow_id", "transaction_id", "run_id"])
const DATE_FIELDS = new Set(["created_at", "updated_at", "deleted_at", "expires_at"])
/** The model's columns, the only ones a caller may filter, order or select by. */
export const COLUMNS = new Set([
  ...TEXT_FIELDS,
  ...DATE_FIELDS,
  "state",
  "execution",
  "context",
  "retention_time",
  // The instance that last advanced the run, and how many times recovery took it over: read, never filtered by.
  "owner_instance_id",
  "owner_epoch",
])
const STATES = new Set<string>(Object.values(TransactionState))
const LIST_OPERATORS = new Set(["$in", "$nin"])
const VALUE_OPERATORS = new Set(["$eq", "$ne", "$like", "$ilike", "$gt", "$gte", "$lt", "$lte"])
const DATE_OPERATORS = new Set(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"])

/** The largest page a caller may ask for at once. */
export const MAX_TAKE = 1000

function invalid(field: string, message: string): MedusaError {
  return new MedusaError(MedusaError.Types.INVALID_DATA, `Invalid workflow execution filter "${field}": ${message}`)
}

/**
 * What `q` matches, resolved before the list query: the workflow ids and
 * states that contain the text become exact `IN` lists (indexed, and
 * countable from the counters), so only transaction_id needs a pattern match.
 */
export type ExecutionSearch = {
  /** `q` as an ILIKE pattern: a literal substring, case-insensitive. */
  pattern: string
  /** Workflow ids of live executions that contain `q`. */
  workflowIds: string[]
  /** Transaction states that contain `q`. */
  states: string[]
  /**
   * Without the trigram index: the executions whose transaction id contains
   * `q`, found beforehand in one pass over the table, so the list matches
   * them by id and the total counts them without another pass.
   */
  transactionMatches?: TransactionMatch[]
}

/** The `q` of a list call, or undefined when there is none; refuses anything but text. */
export function searchText(filters: FilterableWorkflowExecutionProps = {}): string | undefined {
  const q = isObject(filters) ? (filters as Record<string, unknown>).q : undefined
  if (q === undefined || q === null || q === "") {
    return undefined
  }
  if (typeof q !== "string") {
    throw invalid("q", `must be a string, got ${typeof q}`)
  }
  return q
}

/** `q` as an ILIKE pattern, and the states it matches. */
export function searchPattern(q: string): { pattern: string; states: string[] } {
  const lower = q.toLowerCase()
  return { pattern: `%${escapeLike(q)}%`, states: [...STATES].filter((state) => state.includes(lower)) }
}

/**
 * Checks a caller's filters and turns `q` into a case-insensitive substring
 * match on transaction_id, workflow_id and state, combined with every other
 * filter. With a resolved `search`, workflow_id and state are matched through
 * its lists instead of a pattern. Anything unknown or of the wrong type is
 * refused with the field named, before it gets near SQL.
 */
export function prepareFilters(
  filters: FilterableWorkflowExecutionProps = {},
  search?: ExecutionSearch
): Record<string, unknown> {
  if (!isObject(filters)) {
    throw invalid("filters", "must be an object")
  }
  const q = searchText(filters)
  const { q: _q, ...rest } = filters as Record<string, any>
  const checked = checkFilterObject(rest, "")

  if (q === undefined) {
    return checked
  }
  const { pattern, states } = search ?? searchPattern(q)
  const textMatch = { $ilike: pattern }
  const alternatives: Record<string, unknown>[] = search
    ? [
        search.transactionMatches
          ? { id: { $in: search.transactionMatches.map((match) => match.id) } }
          : { transaction_id: textMatch },
        ...(search.workflowIds.length ? [{ workflow_id: { $in: search.workflowIds } }] : []),
        ...(states.length ? [{ state: { $in: states } }] : []),
      ]
    : [{ transaction_id: textMatch }, { workflow_id: textMatch }, { state: textMatch }]
  const matched = alternatives.length === 1 ? alternatives[0] : { $or: alternatives }
  return Object.keys(checked).length ? { $and: [checked, matched] } : matched
}

function checkFilterObject(filters: Record<string, any>, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(filters)) {
    const name = path + field
    if (value === undefined) {
      continue
    }
    if (field === "$and" || field === "$or") {
      if (!Array.isArray(value)) {
        throw invalid(name, "must be an array of filters")
      }
      out[field] = value.map((inner, i) => prepareNested(inner, `${name}[${i}].`))
    } else if (TEXT_FIELDS.has(field)) {
      out[field] = checkValue(name, value, (v) => typeof v === "string", "a string")
    } else if (field === "state") {
      out[field] = checkValue(name, value, (v) => typeof v === "string" && STATES.has(v), `one of ${[...STATES].join(", ")}`, true)
    } else if (DATE_FIELDS.has(field)) {
      out[field] = checkDate(name, value)
    } else {
      throw invalid(name, `is not a filterable field (use one of q, ${[...TEXT_FIELDS, "state", ...DATE_FIELDS].join(", ")})`)
    }
  }
  return out
}

function prepareNested(inner: unknown, path: string): Record<string, unknown> {
  if (!isObject(inner)) {
    throw invalid(path.slice(0, -1), "must be an object")
  }
  const { q, ...rest } = inner as Record<string, any>
  if (q !== undefined) {
    throw invalid(`${path}q`, "is only accepted at the top level")
  }
  return checkFilterObject(rest, path)
}

function checkValue(
  name: string,
  value: unknown,
  accepts: (v: unknown) => boolean,
  expected: string,
  likeIsText = false
): unknown {
  const fail = (got: unknown) => invalid(name, `must be ${expected}, got ${JSON.stringify(got)}`)
  if (Array.isArray(value)) {
    value.forEach((v) => {
      if (!accepts(v)) throw fail(v)
    })
    return value
  }
  if (isObject(value)) {
    for (const [operator, operand] of Object.entries(value as Record<string, unknown>)) {
      if (LIST_OPERATORS.has(operator)) {
        if (!Array.isArray(operand)) {
          throw invalid(`${name}.${operator}`, "must be an array")
        }
        operand.forEach((v) => {
          if (!accepts(v)) throw fail(v)
        })
      } else if (VALUE_OPERATORS.has(operator)) {
        const isPattern = operator === "$like" || operator === "$ilike"
        const ok = isPattern && likeIsText ? typeof operand === "string" : accepts(operand)
        if (!ok) throw fail(operand)
      } else {
        throw invalid(`${name}.${operator}`, "is not a supported operator")
      }
    }
    return value
  }
  if (!accepts(value)) {
    throw fail(value)
  }
  return value
}

function checkDate(name: string, value: unknown): unknown {
  const isDate = (v: unknown) =>
    (v instanceof Date && !isNaN(v.getTime())) || (typeof v === "string" && !isNaN(Date.parse(v)))
  if (isObject(value) && !(value instanceof Date)) {
    for (const [operator, operand] of Object.entries(value as Record<string, unknown>)) {
      if (!DATE_OPERATORS.has(operator)) {
        throw invalid(`${name}.${operator}`, "is not a supported operator for a date")
      }
      if (!isDate(operand)) {
        throw invalid(`${name}.${operator}`, `must be a date, got ${JSON.stringify(operand)}`)
      }
    }
    return value
  }
  if (!isDate(value)) {
    throw invalid(name, `must be a date or an operator map, got ${JSON.stringify(value)}`)
  }
  return value
}

/** Validates paging, order and select of a list call. */
export function checkConfig(
  config: FindConfig<WorkflowExecutionDTO> = {}
): FindConfig<WorkflowExecutionDTO> {
  const { take, skip, order, select } = config as Record<string, any>
  if (take !== undefined && take !== null) {
    if (!Number.isInteger(take) || take < 0 || take > MAX_TAKE) {
      throw invalid("take", `must be a whole number from 0 to ${MAX_TAKE}, got ${JSON.stringify(take)}`)
    }
  }
  if (skip !== undefined && skip !== null && (!Number.isInteger(skip) || skip < 0)) {
    throw invalid("skip", `must be a whole number >= 0, got ${JSON.stringify(skip)}`)
  }
  if (order !== undefined) {
    if (!isObject(order)) {
      throw invalid("order", "must be an object of column: ASC | DESC")
    }
    for (const [column, direction] of Object.entries(order)) {
      if (!COLUMNS.has(column)) {
        throw invalid(`order.${column}`, "is not a column of workflow_execution")
      }
      if (typeof direction !== "string" || !/^(asc|desc)$/i.test(direction)) {
        throw invalid(`order.${column}`, `must be ASC or DESC, got ${JSON.stringify(direction)}`)
      }
    }
  }
  if (select !== undefined) {
    if (!Array.isArray(select)) {
      throw invalid("select", "must be an array of field names")
    }
    for (const field of select) {
      if (typeof field !== "string" || !COLUMNS.has(field.split(".")[0])) {
        throw invalid("select", `${JSON.stringify(field)} is not a field of workflow_execution`)
      }
    }
  }
  return config
}

// `q` is a literal substring: its own % and _ must not act as wildcards.
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}
