import { Queryable, WrittenAlong } from "../../db"

/**
 * The CTEs of `along`, to follow the statement's "written" right away: a
 * timer set with a checkpoint then shows among the first 1024 bytes of the
 * statement that pg_stat_activity keeps.
 */
export function alongCtes(along: WrittenAlong[]): string {
  return along.map((part) => `, ${part.sql}`).join("")
}

/** The columns of `along`'s results, to follow the statement's result row's own. */
export function alongResults(along: WrittenAlong[]): string {
  return along
    .map((part, i) => (part.result ? `, ${part.result} AS "along_${i}"` : ""))
    .join("")
}

export function alongBindings(along: WrittenAlong[]): WrittenAlong["bindings"] {
  return along.flatMap((part) => part.bindings)
}

const results = new WeakMap<WrittenAlong, unknown>()

/** Keeps what the statement's result `row` says for each part, for commitAlong. */
export function readAlong(
  row: Record<string, unknown> | undefined,
  along: WrittenAlong[]
): void {
  along.forEach((part, i) => {
    if (part.result) {
      results.set(part, row?.[`along_${i}`])
    }
  })
}

/** Tells each part that the statement which carried it committed, and waits for what follows (see WrittenAlong). */
export async function commitAlong(along: WrittenAlong[]): Promise<void> {
  await Promise.all(along.map((part) => part.committed?.(results.get(part))))
}

/**
 * Applies what is written along a run's write on its own, in the open
 * transaction that wrote the run: under the lock, for a finished run that
 * had no row (inserted, or nothing to remove).
 */
export async function writeAlong(
  trx: Queryable,
  along: WrittenAlong[]
): Promise<void> {
  if (!along.length) {
    return
  }
  const { rows } = await trx.raw(
    `WITH "written" AS (SELECT 1)${alongCtes(along)} SELECT 1${alongResults(along)}`,
    alongBindings(along)
  )
  readAlong(rows[0], along)
}
