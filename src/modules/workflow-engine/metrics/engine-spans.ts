import { Attributes, SpanStatusCode, trace } from "@opentelemetry/api"
import { METER_NAME } from "./meter-name"
import { markEngineSpan } from "./run-trace"

/**
 * Runs `work` in a span named `name` of the engine's tracer (a no-op where
 * the store registered no tracer provider), ended when the work settles,
 * with an error status and the exception when it throws.
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: () => Promise<T>
): Promise<T> {
  return await trace
    .getTracer(METER_NAME)
    .startActiveSpan(name, { attributes }, async (span) => {
      markEngineSpan(span)
      try {
        return await work()
      } catch (error) {
        span.recordException(error as Error)
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        })
        throw error
      } finally {
        span.end()
      }
    })
}
