import { Attributes, SpanStatusCode, trace } from "@opentelemetry/api"
import { METER_NAME } from "./meter-name"
import { markEngineSpan } from "./run-trace"

/**
 * Runs `work` in a span named `name` of the engine's tracer (a no-op where
 * the store registered no tracer provider), ended when the work settles,
 * with an error status and the exception when it throws. `root` starts a
 * trace of its own: for work no caller waits for (a timer firing, a takeover,
 * a schedule tick), which is not part of whatever trace happened to be
 * active when it was armed; it links to its run's trace instead (run-trace).
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
  { root = false }: { root?: boolean } = {}
): Promise<T> {
  return await trace
    .getTracer(METER_NAME)
    .startActiveSpan(name, { attributes, root }, async (span) => {
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
