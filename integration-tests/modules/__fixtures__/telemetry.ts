import { context, metrics, trace } from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import {
  DataPoint,
  MeterProvider,
  MetricReader,
} from "@opentelemetry/sdk-metrics"
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base"
import { METER_NAME } from "../../../src/modules/workflow-engine/metrics/meter-name"

// A reader the test collects from when it wants, as an exporter's periodic reader would.
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

type Point = DataPoint<unknown>

/**
 * Registers an OpenTelemetry meter provider, tracer provider and context
 * manager as the process's global ones, as a store's instrumentation.ts does
 * (Medusa's registerOtel registers the same context manager): call it before
 * the module loads (at the top of a spec file). Returns what reads them back.
 */
export function registerTestTelemetry() {
  const reader = new CollectingReader()
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }))
  const spans = new InMemorySpanExporter()
  context.setGlobalContextManager(
    new AsyncLocalStorageContextManager().enable()
  )
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(spans)],
    })
  )

  /** The data points of the engine's metric `name`, collected now. */
  async function points(name: string): Promise<Point[]> {
    const { resourceMetrics } = await reader.collect()
    return resourceMetrics.scopeMetrics
      .filter((scope) => scope.scope.name === METER_NAME)
      .flatMap((scope) => scope.metrics)
      .filter((metric) => metric.descriptor.name === name)
      .flatMap((metric) => metric.dataPoints as Point[])
  }

  /** The sum of a counter's or gauge's points (a histogram's counts) whose attributes include `where`. */
  async function total(
    name: string,
    where: Record<string, string> = {}
  ): Promise<number> {
    return (await points(name))
      .filter((point) =>
        Object.entries(where).every(
          ([key, value]) => point.attributes[key] === value
        )
      )
      .reduce((sum, point) => {
        const value = point.value as number | { count: number }
        return sum + (typeof value === "number" ? value : value.count)
      }, 0)
  }

  return { spans, points, total }
}
