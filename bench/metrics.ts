/**
 * Metrics benchmark: what the engine's metrics add to a run, per run, in the
 * process (they add no statement). One run's worth of recording is what a
 * stored run with one retried step records: its end with the duration, the
 * retry, and the retry's timer with its lateness. Measured with no
 * OpenTelemetry SDK registered (the API's no-op instruments, what a store
 * that turned nothing on pays), then with the SDK's MeterProvider and a
 * reader (what a store that exports metrics pays), against the loop with
 * a recorder that does nothing. Medians of rounds.
 */
import { metrics } from "@opentelemetry/api"
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics"
import { engineMetrics } from "../src/modules/workflow-engine/metrics/engine-metrics"
import {
  EngineRecorder,
  NO_RECORDER,
} from "../src/modules/workflow-engine/metrics/engine-recorder"

const RUNS = 1_000_000
const ROUNDS = 7
const WORKFLOWS = 20

class IdleReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const gauges = {
  counts: async () => ({ inFlight: 0, stuck: 0 }),
  listenerConnected: () => true,
}

function oneRun(recorder: EngineRecorder, i: number): void {
  const workflowId = `bench-workflow-${i % WORKFLOWS}`
  recorder.stepRetried(workflowId, "bench-step")
  recorder.timerFired("retry", 3, false)
  recorder.runEnded({
    workflowId,
    result: "done",
    startedAtMs: Date.now() - 5,
  })
}

function nsPerRun(recorder: EngineRecorder): number {
  const started = process.hrtime.bigint()
  for (let i = 0; i < RUNS; i++) {
    oneRun(recorder, i)
  }
  return Number(process.hrtime.bigint() - started) / RUNS
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

export async function run(): Promise<void> {
  // The loop itself (the attributes' strings, the clock): what no recorder at all costs.
  nsPerRun(NO_RECORDER)
  const floor = Array.from({ length: ROUNDS }, () => nsPerRun(NO_RECORDER))
  const noop = engineMetrics(gauges)
  nsPerRun(noop)
  const without = Array.from({ length: ROUNDS }, () => nsPerRun(noop))

  metrics.setGlobalMeterProvider(
    new MeterProvider({ readers: [new IdleReader()] })
  )
  const sdk = engineMetrics(gauges)
  nsPerRun(sdk)
  const withSdk = Array.from({ length: ROUNDS }, () => nsPerRun(sdk))
  metrics.disable()

  console.log(
    `| recording one run's metrics | ns per run (median of ${ROUNDS} × ${RUNS.toLocaleString("en")}) |`
  )
  console.log(`| --- | --- |`)
  console.log(`| no recorder (the loop alone) | ${median(floor).toFixed(0)} |`)
  console.log(`| no SDK (no-op API) | ${median(without).toFixed(0)} |`)
  console.log(
    `| SDK MeterProvider, ${WORKFLOWS} workflows | ${median(withSdk).toFixed(0)} |`
  )
}
