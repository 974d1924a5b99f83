import { FilterableWorkflowExecutionProps } from "@medusajs/framework/types"
import { TransactionState } from "@medusajs/framework/utils"
import { EXECUTION_FILTERS } from "./execution-fields"
import { checkText, isRecord } from "./filter-check"
import type { TransactionMatch } from "./sql/transactions-matching"

const STATES = new Set<string>(Object.values(TransactionState))

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
export function searchText(
  filters: FilterableWorkflowExecutionProps = {}
): string | undefined {
  const q = isRecord(filters)
    ? (filters as Record<string, unknown>).q
    : undefined
  if (q === undefined || q === null || q === "") {
    return undefined
  }
  return checkText(EXECUTION_FILTERS.subject, "q", q)
}

/** `q` as an ILIKE pattern, and the states it matches. */
export function searchPattern(q: string): {
  pattern: string
  states: string[]
} {
  const lower = q.toLowerCase()
  return {
    pattern: `%${escapeLike(q)}%`,
    states: [...STATES].filter((state) => state.includes(lower)),
  }
}

/**
 * `q` as a filter: a case-insensitive substring match on transaction_id,
 * workflow_id and state. With a resolved `search`, workflow_id and state are
 * matched through its lists instead of a pattern.
 */
export function searchFilter(
  q: string,
  search?: ExecutionSearch
): Record<string, unknown> {
  const { pattern, states } = search ?? searchPattern(q)
  const textMatch = { $ilike: pattern }
  const alternatives: Record<string, unknown>[] = search
    ? [
        search.transactionMatches
          ? { id: { $in: search.transactionMatches.map((match) => match.id) } }
          : { transaction_id: textMatch },
        ...(search.workflowIds.length
          ? [{ workflow_id: { $in: search.workflowIds } }]
          : []),
        ...(states.length ? [{ state: { $in: states } }] : []),
      ]
    : [
        { transaction_id: textMatch },
        { workflow_id: textMatch },
        { state: textMatch },
      ]
  return alternatives.length === 1 ? alternatives[0] : { $or: alternatives }
}

// `q` is a literal substring: its own % and _ must not act as wildcards.
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}
