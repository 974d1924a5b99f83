/**
 * One run's key in this process' maps and contexts. Joined by NUL, which a
 * Postgres text id cannot hold: workflow "a:b" with transaction "c" stays
 * apart from workflow "a" with transaction "b:c".
 */
export function runKey(run: {
  workflowId: string
  transactionId: string
}): string {
  return `${run.workflowId}\u0000${run.transactionId}`
}
