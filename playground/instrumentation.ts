import { metrics } from "@opentelemetry/api"
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus"
import { MeterProvider } from "@opentelemetry/sdk-metrics"

/**
 * Medusa runs this before it loads the modules: the engine's metrics
 * (docs/metrics.md) are served for Prometheus on http://localhost:9464/metrics
 * (METRICS_PORT). A store that also exports traces uses Medusa's registerOtel
 * with `metricReaders: [new PrometheusExporter(...)]` instead.
 */
export function register() {
  const port = Number(process.env.METRICS_PORT ?? 9464)
  metrics.setGlobalMeterProvider(
    new MeterProvider({ readers: [new PrometheusExporter({ port })] })
  )
}
