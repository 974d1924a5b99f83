/**
 * A purge batch as one statement: deletes the rows `claim` locks (a SELECT
 * of their ctids, `FOR UPDATE SKIP LOCKED`), then answers `summary`, an
 * aggregate over what was deleted (`deleted`, with the columns `returning`),
 * and turns `synchronous_commit` off for its own transaction, inside the
 * statement, so a batch stays one round trip (see purge-expired-batch.ts).
 */
export function deleteClaimedSql(
  claim: string,
  returning: string,
  summary: string
): string {
  return `WITH deleted AS (
       DELETE FROM "workflow_execution"
        WHERE ctid = ANY (ARRAY(${claim}))
       RETURNING ${returning}
     )
     SELECT ${summary}, set_config('synchronous_commit', 'off', true) AS commit_flush
       FROM deleted`
}
