import type { HttpTypes } from "@medusajs/framework/types"
import {
  isRetryable,
  StoredStepForRetry,
} from "../../api/admin/workflow-engine/step-retry"

export type TimelineStep = {
  id: string
  /** The step's name, as the workflow defines it (the `stepId` of its idempotency key). */
  action: string
  depth: number
  invokeState: string
  /** `waiting_response` while an async step waits for setStepSuccess / setStepFailure. */
  invokeStatus: string
  compensateState: string
  /** How many times the step's invoke was called. */
  attempts: number
  /** Whether Medusa's retryStep would invoke it again now (step-retry). */
  retryable: boolean
  /** Milliseconds after the run started; null when the step never started. */
  offsetMs: number | null
  /**
   * How long the step ran: exact when the engine stamped its end (`exact`),
   * otherwise the time until the step after it started (or the run's last
   * write), an upper bound (runs stored before the engine stamped ends).
   */
  upToMs: number | null
  exact: boolean
}

export type Timeline = { steps: TimelineStep[]; spanMs: number }

// The stored flow has more than the HTTP type says: the step's name (`action`) and a null startedAt before it runs.
type StoredStep = HttpTypes.AdminWorkflowExecutionStep &
  StoredStepForRetry & {
    attempts?: number
    startedAt?: number | null
    /** Stamped by this engine when the step's invoke ended. */
    endedAt?: number | null
    definition?: HttpTypes.AdminWorkflowExecutionStep["definition"] & {
      action?: string
    }
  }

/** The run's steps in the order they started, each placed against the run's start. */
export function timelineOf(
  execution: HttpTypes.AdminWorkflowExecution,
  nowMs: number
): Timeline {
  const flow = execution.execution as
    | (HttpTypes.AdminWorkflowExecution["execution"] & { startedAt?: number })
    | undefined
  const steps = Object.values(
    (flow?.steps ?? {}) as Record<string, StoredStep>
  ).filter((step) => step.id !== "_root")
  const runStart =
    flow?.startedAt ??
    Math.min(...steps.map((step) => step.startedAt ?? Infinity))
  const finished = ["done", "failed", "reverted"].includes(execution.state)
  const runEnd = finished
    ? Date.parse(execution.updated_at as unknown as string)
    : nowMs
  // A step's id nests the ids of the steps before it ("_root.a.b" runs after "_root.a"),
  // so the first of its descendants to start started after it ended; parallel steps are siblings.
  const firstDescendantStart = (id: string): number | undefined => {
    const starts = steps
      .filter(
        (other) =>
          other.id.startsWith(`${id}.`) && typeof other.startedAt === "number"
      )
      .map((other) => other.startedAt as number)
    return starts.length ? Math.min(...starts) : undefined
  }

  const placed = steps.map((step): TimelineStep => {
    const start = typeof step.startedAt === "number" ? step.startedAt : null
    const end =
      start !== null && typeof step.endedAt === "number" ? step.endedAt : null
    const nextStart = start === null ? undefined : firstDescendantStart(step.id)
    return {
      id: step.id,
      action: step.definition?.action ?? step.id.split(".").pop() ?? step.id,
      depth: step.depth,
      invokeState: step.invoke?.state ?? "not_started",
      invokeStatus: step.invoke?.status ?? "idle",
      compensateState: step.compensate?.state ?? "dormant",
      attempts: step.attempts ?? 0,
      retryable: isRetryable(step),
      offsetMs:
        start === null || !Number.isFinite(runStart) ? null : start - runStart,
      upToMs:
        start === null
          ? null
          : Math.max(0, (end ?? nextStart ?? runEnd) - start),
      exact: end !== null,
    }
  })
  placed.sort(
    (a, b) =>
      (a.offsetMs ?? Infinity) - (b.offsetMs ?? Infinity) || a.depth - b.depth
  )
  const spanMs = Math.max(
    1,
    ...placed.map((step) => (step.offsetMs ?? 0) + (step.upToMs ?? 0))
  )
  return { steps: placed, spanMs }
}
