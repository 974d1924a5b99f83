import { TransactionOrchestrator } from "@medusajs/framework/orchestration"
import { runKey } from "../run-key"
import { heldCheckpoints } from "./held-checkpoints"

/** A run, as an async step's handler knows it: by its workflow and transaction. */
export type HandlerRun = { workflowId: string; transactionId: string }

/** Stores that the handler of `stepId`, at its `attempt`, returned (see awaited-steps). */
export type NoteHandler = (
  run: HandlerRun,
  stepId: string,
  attempt: number
) => Promise<void>

type StepTrace = NonNullable<typeof TransactionOrchestrator.traceStep>

let note: NoteHandler | undefined
let wrapped: StepTrace | undefined
const inHand = new Map<string, Set<Promise<void>>>()

/**
 * Every step handler of the process runs through Medusa's one hook around
 * step handlers, `TransactionOrchestrator.traceStep` (the one its
 * OpenTelemetry instrumentation uses, which this wraps, not replaces): an
 * async step's handler that returns is noted there before Medusa goes on,
 * whichever way its run was started (`workflow(container).run()` or the
 * engine's service). The last engine started in the process notes.
 */
export function keepHandlerNotes(noteHandler: NoteHandler): void {
  note = noteHandler
  if (TransactionOrchestrator.traceStep !== traceStep) {
    wrapped = TransactionOrchestrator.traceStep
    TransactionOrchestrator.traceStep = traceStep
  }
}

/**
 * Whether returned handlers are noted now. Should something have replaced
 * the hook since, runs are stored without notes (NULL, "not known"), and
 * recovery leaves their async steps waiting as it did before it had notes.
 */
export function handlerNotesKept(): boolean {
  return !!note && TransactionOrchestrator.traceStep === traceStep
}

/** Waits for the notes of a run's handlers that have returned and are being stored. */
export async function handlerNotesStored(run: HandlerRun): Promise<void> {
  await Promise.all(inHand.get(runKey(run)) ?? [])
}

const traceStep: StepTrace = async (handler, metadata) => {
  if (note) {
    // The handler may be answered from elsewhere, or do what a crash must not repeat unknowingly: the run's
    // checkpoints held so far are written first (see held-checkpoints).
    await heldCheckpoints.release(runOf(metadata.idempotency_key))
  }
  const result = await (wrapped ? wrapped(handler, metadata) : handler())
  if (metadata.async && metadata.type === "invoke" && note) {
    const run = runOf(metadata.idempotency_key)
    await track(run, note(run, metadata.step_id, metadata.attempts))
  }
  return result
}

async function track(run: HandlerRun, stored: Promise<void>): Promise<void> {
  const key = runKey(run)
  const notes = inHand.get(key) ?? new Set<Promise<void>>()
  inHand.set(key, notes)
  notes.add(stored)
  try {
    await stored
  } finally {
    notes.delete(stored)
    if (!notes.size) {
      inHand.delete(key)
    }
  }
}

// `<workflow id>:<transaction id>:<action>:<invoke|compensate>`; the transaction id may hold colons.
function runOf(idempotencyKey: string): HandlerRun {
  const parts = idempotencyKey.split(":")
  return {
    workflowId: parts[0],
    transactionId: parts.slice(1, -2).join(":"),
  }
}
