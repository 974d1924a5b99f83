import { Logger } from "@medusajs/framework/types"

// SQLSTATE class 08 (connection exception), the server shutting down or starting up, and a server that
// turned read-only under a write (25006: a failover in progress, the old primary demoted).
const LOST_SQLSTATES = new Set(["57P01", "57P02", "57P03", "25006"])
const LOST_SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EAI_AGAIN",
])
// pg's own messages for a connection that ended (or that a query was sent on after it failed, as knex's ROLLBACK
// of a transaction whose connection was cut), and for a connect that outlasted the store's connectionTimeoutMillis
// (the whole message, or what follows the statement knex puts before it); knex's for a pool that could open none in time.
const LOST_MESSAGES =
  /Connection terminated|Connection ended unexpectedly|connection error and is not queryable|Timeout acquiring a connection|(^|- )timeout expired$/i

/** How long a checkpoint waits for Postgres to come back before its run fails (a restart or failover takes seconds). */
export const UNREACHABLE_FOR_MS = 5 * 60 * 1000
const FIRST_DELAY_MS = 100
const MAX_DELAY_MS = 2000

/**
 * Whether an error says only that Postgres could not be reached (a restart,
 * a failover, a cut connection), and nothing about the statement: the same
 * statement may simply be sent again once the server answers.
 */
export function isConnectionLoss(error: unknown): boolean {
  const { code, message } = (error ?? {}) as {
    code?: unknown
    message?: unknown
  }
  if (
    typeof code === "string" &&
    (code.startsWith("08") ||
      LOST_SQLSTATES.has(code) ||
      LOST_SOCKET_CODES.has(code))
  ) {
    return true
  }
  return LOST_MESSAGES.test(String(message ?? ""))
}

// knex puts the statement before the driver's message: only the message says what happened.
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const reason = message.split(" - ").pop()!.trim()
  if (/Timeout acquiring a connection/i.test(reason)) {
    return (
      `${reason} (the pool had no free connection: every one was busy, or none could be opened; raise the pool's ` +
      `size in databaseDriverOptions.pool, or the pooler's pool_size, see "Connections" in docs/multi-instance.md)`
    )
  }
  return reason
}

export class DatabaseUnreachableError extends Error {
  constructor(what: string, waitedMs: number, cause: unknown) {
    super(
      `Workflow engine: Postgres could not be reached for ${Math.round(waitedMs / 1000)} s while ${what}; ` +
        `the run stays at its last stored checkpoint. Last error: ${reasonOf(cause)}`
    )
    this.name = "DatabaseUnreachableError"
  }
}

/**
 * Runs `work`, and runs it again while it fails only because Postgres cannot
 * be reached, for up to UNREACHABLE_FOR_MS. The orchestrator cannot wait
 * itself: a failed checkpoint fails the run in the middle of a step, and the
 * failure of a background step's checkpoint escapes as an unhandled rejection
 * that ends the process. Only for statements that may be sent twice: reads,
 * and writes whose second try finds what the first one did (see the callers).
 */
export async function untilReachable<T>(
  logger: Logger,
  what: string,
  work: () => Promise<T>
): Promise<T> {
  const startedAt = Date.now()
  let delayMs = FIRST_DELAY_MS
  for (let attempt = 1; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      if (!isConnectionLoss(error)) {
        throw error
      }
      const waitedMs = Date.now() - startedAt
      if (waitedMs + delayMs > UNREACHABLE_FOR_MS) {
        throw new DatabaseUnreachableError(what, waitedMs, error)
      }
      if (attempt === 1) {
        logger.warn(
          `Workflow engine: Postgres cannot be reached (${reasonOf(error)}); ${what} waits for it`
        )
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      delayMs = Math.min(delayMs * 2, MAX_DELAY_MS)
    }
  }
}
