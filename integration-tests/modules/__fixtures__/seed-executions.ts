import type { Knex } from "@medusajs/framework/mikro-orm/knex"

export type SeedRow = {
  id: string
  state: string
  /** Seconds from now; negative = already expired. null = no expiry. */
  expiresIn: number | null
  /** Seconds ago the row was last updated. */
  updatedAgo?: number
  retentionTime?: number | null
}

/** Inserts executions with a given state and expiry, set by the database clock. */
export async function seedExecutions(db: Knex, rows: SeedRow[]): Promise<void> {
  for (const row of rows) {
    await db.raw(
      `INSERT INTO workflow_execution
         (id, workflow_id, transaction_id, run_id, state, execution, context, retention_time,
          created_at, updated_at, expires_at)
       VALUES (?, 'seeded', ?, 'run', ?, ?::jsonb, '{"data":{},"errors":[]}'::jsonb, ?,
               now() - make_interval(secs => ?), now() - make_interval(secs => ?),
               now() + make_interval(secs => ?::int))`,
      [
        row.id,
        `tx-${row.id}`,
        row.state,
        JSON.stringify({ state: row.state }),
        row.retentionTime === undefined ? 60 : row.retentionTime,
        (row.updatedAgo ?? 0) + 10,
        row.updatedAgo ?? 0,
        row.expiresIn,
      ]
    )
  }
}

/** `count` finished rows, all expired. */
export async function seedExpired(db: Knex, count: number): Promise<void> {
  await db.raw(
    `INSERT INTO workflow_execution
       (id, workflow_id, transaction_id, run_id, state, execution, context, retention_time, expires_at)
     SELECT 'wf_exec_bulk_' || i, 'bulk', 'tx-bulk-' || i, 'run',
            (ARRAY['done', 'failed', 'reverted'])[1 + i % 3], '{}'::jsonb, '{}'::jsonb, 60,
            now() - make_interval(secs => i)
       FROM generate_series(1, ?) AS i`,
    [count]
  )
}
