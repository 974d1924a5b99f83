import type { Client } from "pg"
import { medusaRows } from "./medusa-rows"

/** What a scaled seed holds, by how a purge must treat it. */
export type ScaleSeed = {
  /** Rows written. */
  rows: number
  /** Finished runs past their retention (rows 1 to `expired`): exactly these go. */
  expired: number
}

/**
 * `rows` runs in `workflow_execution` as Medusa's engine leaves them after a
 * while, written by one set-based statement (300,000 rows in seconds), on a
 * table Medusa's own migrations created: no `expires_at`, nothing of ours.
 * The flows and contexts are those of medusaRows(), each run with its own ids
 * (`wf_exec_01KSCALE` and the row number, zero-padded) and timestamps a
 * millisecond apart, inserted oldest first as a live store's are.
 *
 * Row n, for n up to `expired`: finished (done, failed, reverted in turn),
 * its retention (an hour, a day or a week in turn) passed over an hour ago.
 * After that, by n % 4: 0 done within the last minutes, a day's retention to
 * go; 1 in flight (invoking, waiting to compensate, compensating, not
 * started) for a month, with the retention Medusa writes at every checkpoint;
 * 2 done 90 days ago without retention; 3 failed a day ago, a week's
 * retention. None of those may be purged.
 */
export async function insertMedusaRowsAtScale(
  client: Pick<Client, "query">,
  seed: ScaleSeed
): Promise<void> {
  const [order, , payment, refund, shipment] = medusaRows()
  const templates = [
    ["done", order],
    ["failed", payment],
    ["reverted", refund],
    ["in flight", shipment],
  ] as const
  await client.query(
    `INSERT INTO "workflow_execution"
       ("id", "workflow_id", "transaction_id", "run_id", "execution", "context", "state", "retention_time", "created_at", "updated_at")
     SELECT 'wf_exec_01KSCALE' || lpad(n::text, 10, '0'),
            t.workflow_id,
            t.transaction_prefix || lpad(n::text, 10, '0'),
            '01KSCALERUN' || lpad(n::text, 15, '0'),
            jsonb_set(jsonb_set(jsonb_set(
              CASE WHEN r.retention IS NULL THEN t.execution #- '{options,retentionTime}'
                   ELSE jsonb_set(t.execution, '{options,retentionTime}', to_jsonb(r.retention)) END,
              '{state}', to_jsonb(r.state)),
              '{transactionId}', to_jsonb(t.transaction_prefix || lpad(n::text, 10, '0'))),
              '{runId}', to_jsonb('01KSCALERUN' || lpad(n::text, 15, '0'))),
            t.context,
            r.state,
            r.retention,
            r.updated_at - interval '1.5 seconds',
            r.updated_at
       FROM generate_series(1, $1::int) AS n
      CROSS JOIN LATERAL (
        SELECT CASE WHEN n <= $2 THEN (ARRAY['done', 'failed', 'reverted'])[1 + n % 3]
                    WHEN n % 4 = 1 THEN (ARRAY['invoking', 'waiting_to_compensate', 'compensating', 'not_started'])[1 + n / 4 % 4]
                    WHEN n % 4 = 3 THEN 'failed'
                    ELSE 'done' END AS state,
               CASE WHEN n <= $2 THEN (ARRAY[3600, 86400, 604800])[1 + n / 3 % 3]
                    WHEN n % 4 = 0 THEN 86400
                    WHEN n % 4 = 1 THEN 3600
                    WHEN n % 4 = 3 THEN 604800 END AS retention
      ) AS k
      CROSS JOIN LATERAL (
        SELECT k.state, k.retention,
               -- Timestamps without time zone, as Medusa's table keeps them: in UTC.
               (now() AT TIME ZONE 'UTC') - make_interval(secs => n / 1000.0) - CASE
                 WHEN n <= $2 THEN make_interval(secs => k.retention) + interval '1 hour'
                 WHEN n % 4 = 1 THEN interval '30 days'
                 WHEN n % 4 = 2 THEN interval '90 days'
                 WHEN n % 4 = 3 THEN interval '1 day'
                 ELSE interval '0' END AS updated_at
      ) AS r
      JOIN (SELECT * FROM jsonb_to_recordset($3::jsonb)
              AS x(kind text, workflow_id text, transaction_prefix text, execution jsonb, context jsonb)) AS t
        ON t.kind = CASE WHEN r.state IN ('done', 'failed', 'reverted') THEN r.state ELSE 'in flight' END
      ORDER BY r.updated_at`,
    [
      seed.rows,
      seed.expired,
      JSON.stringify(
        templates.map(([kind, row]) => ({
          kind,
          workflow_id: row.workflow_id,
          transaction_prefix: row.transaction_id.replace(/_.*/, "_01KSCALE"),
          execution: row.execution,
          context: row.context,
        }))
      ),
    ]
  )
}
