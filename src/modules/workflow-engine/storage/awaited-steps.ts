/**
 * An async step's handler is what tells the outside world to answer it (a
 * request sent, a job queued); the checkpoint shows the step waiting before
 * the handler runs, and nothing is written when it returns. So that a
 * recovery can tell a step that waits for an answer from one whose instance
 * died before its handler returned, the storage notes each returned handler
 * on the run's row (`awaited_steps`), by step and attempt.
 */
export function awaitedMarker(stepId: string, attempt: number): string {
  return `${stepId}#${attempt}`
}
