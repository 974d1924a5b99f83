import {
  FilterableWorkflowExecutionProps,
  FindConfig,
  WorkflowExecutionDTO,
} from "@medusajs/framework/types"
import type { Knex } from "@medusajs/framework/mikro-orm/knex"
import { counterSelection } from "./counter-selection"
import { DirectLookup } from "./direct-lookup"
import { ExecutionSearch, searchPattern } from "./execution-search"
import { countSearch } from "./sql/count-search"
import { selectExecutions } from "./sql/select-executions"
import { countersState } from "./sql/counters-state"
import { sumCounters } from "./sql/sum-counters"
import {
  TransactionMatch,
  transactionsMatching,
} from "./sql/transactions-matching"
import { workflowsMatching } from "./sql/workflows-matching"

const UNDEFINED_TABLE = "42P01"

// Without the trigram index, up to this many transaction id matches are found
// first and listed by id; past it, the list query matches the pattern itself.
const MAX_UNINDEXED_MATCHES = 1000

/**
 * What makes a list call cheap on a large table: `q` resolved against the
 * counters before the query, and totals taken from the counters instead of
 * counting rows, wherever they answer exactly.
 */
export class ExecutionListing {
  protected countersReady_ = false

  constructor(protected readonly db: Knex) {}

  /**
   * The resolved `q`, or undefined when the counters are not there to resolve
   * it, or when the list asks for soft-deleted rows too: a resolved search
   * knows live executions only (the counters count those, and the pass over
   * transaction ids reads those), so then the list query matches `q` itself.
   */
  async search(
    q: string,
    config: FindConfig<WorkflowExecutionDTO> = {}
  ): Promise<ExecutionSearch | undefined> {
    if (
      (config as { withDeleted?: boolean }).withDeleted ||
      !(await this.countersReady())
    ) {
      return undefined
    }
    const { pattern, states } = searchPattern(q)
    try {
      const { workflowIds, trigramIndexed } = await workflowsMatching(
        this.db,
        pattern
      )
      const search: ExecutionSearch = { pattern, states, workflowIds }
      if (!trigramIndexed) {
        const matches = await transactionsMatching(
          this.db,
          pattern,
          MAX_UNINDEXED_MATCHES + 1
        )
        // Too many to list by id: the list query matches the pattern itself.
        if (matches.length <= MAX_UNINDEXED_MATCHES) {
          search.transactionMatches = matches
        }
      }
      return search
    } catch (error) {
      if (this.lostCounters(error)) {
        return undefined
      }
      throw error
    }
  }

  /** The rows of a lookup simple enough for one plain statement. */
  async list(lookup: DirectLookup): Promise<Record<string, unknown>[]> {
    return await selectExecutions(this.db, lookup)
  }

  /** True when `error` says the counters are gone (a reverted migration): lists count rows again. */
  lostCounters(error: unknown): boolean {
    if ((error as { code?: string })?.code !== UNDEFINED_TABLE) {
      return false
    }
    this.countersReady_ = false
    return true
  }

  /**
   * How to get the total of a list without counting its rows, or null when
   * only counting them is exact (the caller then counts with the query).
   */
  async totalOf(
    filters: FilterableWorkflowExecutionProps,
    config: FindConfig<WorkflowExecutionDTO>,
    search?: ExecutionSearch
  ): Promise<(() => Promise<number>) | null> {
    if (search) {
      // A resolved search means the counters are there.
      const others = Object.entries(filters).filter(
        ([field, value]) => field !== "q" && value !== undefined
      )
      if (others.length || (config as { withDeleted?: boolean }).withDeleted) {
        return null
      }
      const { transactionMatches: matches, workflowIds, states } = search
      if (matches) {
        const counted = (match: TransactionMatch) =>
          workflowIds.includes(match.workflow_id) ||
          states.includes(match.state)
        const uncounted = matches.filter((match) => !counted(match)).length
        return async () =>
          uncounted + (await countSearch(this.db, null, workflowIds, states))
      }
      return () => countSearch(this.db, search.pattern, workflowIds, states)
    }
    const selection = counterSelection(filters, config)
    if (!selection || !(await this.countersReady())) {
      return null
    }
    return () => sumCounters(this.db, selection.workflowIds, selection.states)
  }

  /*
   * Without counters that keep up (migrations not run yet, or a schema built
   * from the models: the start says which, see storage/schema-check) lists
   * still count correctly, by the query.
   */
  protected async countersReady(): Promise<boolean> {
    // Ready is for good; while the upgrade still counts (see upgrade/), lists count their rows.
    this.countersReady_ ||= (await countersState(this.db)) === "ready"
    return this.countersReady_
  }
}
