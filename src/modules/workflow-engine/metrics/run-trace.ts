import {
  isSpanContextValid,
  Span,
  SpanContext,
  trace,
} from "@opentelemetry/api"
import { TransactionFlow } from "@medusajs/framework/orchestration"

/**
 * A run remembers the trace it started in (the request, the subscriber, the
 * schedule tick), in W3C `traceparent` form in its flow's metadata: stored
 * with the checkpoint, so it costs no statement and survives restarts. The
 * engine's later work on the run (a timer firing, a takeover) links its span
 * to that trace.
 */
const TRACE_KEY = "traceparent"

const engineSpans = new WeakSet<Span>()
const linked = new WeakMap<Span, Set<string>>()

/** Marks a span as the engine's own work, one that links to the traces of the runs it loads. */
export function markEngineSpan(span: Span): void {
  engineSpans.add(span)
}

/** On a save: the trace the run is in now, if the run has none yet and a span is active. */
export function noteRunTrace(flow: TransactionFlow): void {
  if (flow.metadata?.[TRACE_KEY]) {
    return
  }
  const context = trace.getActiveSpan()?.spanContext()
  if (!context || !isSpanContextValid(context)) {
    return
  }
  flow.metadata = { ...flow.metadata, [TRACE_KEY]: format(context) }
}

/** On a load: links the engine's active span, once, to the trace the run started in. */
export function linkRunTrace(flow: TransactionFlow): void {
  const span = trace.getActiveSpan()
  const traceparent = flow.metadata?.[TRACE_KEY]
  if (!span || !engineSpans.has(span) || typeof traceparent !== "string") {
    return
  }
  const context = parse(traceparent)
  const seen = linked.get(span) ?? new Set<string>()
  if (!context || seen.has(traceparent)) {
    return
  }
  seen.add(traceparent)
  linked.set(span, seen)
  span.addLink({ context })
}

function format({ traceId, spanId, traceFlags }: SpanContext): string {
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`
}

function parse(traceparent: string): SpanContext | undefined {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(
    traceparent
  )
  if (!match) {
    return undefined
  }
  const context = {
    traceId: match[1],
    spanId: match[2],
    traceFlags: parseInt(match[3], 16),
    isRemote: true,
  }
  return isSpanContextValid(context) ? context : undefined
}
