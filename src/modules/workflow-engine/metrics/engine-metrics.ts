import {
  Counter,
  Histogram,
  Meter,
  metrics,
  ObservableGauge,
  ValueType,
} from "@opentelemetry/api"
import { EndedRun, EngineRecorder } from "./engine-recorder"
import { METER_NAME } from "./meter-name"

/** What the gauges read when the SDK collects: counts the engine already keeps, never a scan of the table. */
export type GaugeSources = {
  /** Stored runs in flight (the counters table) and runs reported stuck (the stuck_at partial index). */
  counts: () => Promise<{ inFlight: number; stuck: number }>
  /** Whether this instance's LISTEN connection is up (false while it polls or reconnects). */
  listenerConnected: () => boolean
}

type Instruments = {
  runsEnded: Counter
  runDuration: Histogram
  stepsFailed: Counter
  stepsRetried: Counter
  timersFired: Counter
  timerLateness: Histogram
  takeovers: Counter
  purgeRows: Counter
  purgeDuration: Histogram
}

// The SDK's default buckets (0 to 10,000) fit neither seconds of runs nor milliseconds of timers.
const SECONDS_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
  3600,
]
const MILLISECONDS_BUCKETS = [
  1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
  300000,
]

// One set of instruments per meter: the module may load several times in one process (Medusa's test runner).
const byMeter = new WeakMap<Meter, Instruments>()
// The gauges read the engine loaded last: the one whose storage the process uses (see current-engine).
let sources: GaugeSources | undefined

/**
 * The engine's OpenTelemetry instruments, on the meter
 * `medusa-workflow-engine-postgres` of the global MeterProvider: a no-op
 * unless the store registered one (its `instrumentation.ts`) before Medusa
 * loaded the module. docs/metrics.md lists them.
 */
export function engineMetrics(gauges: GaugeSources): EngineRecorder {
  sources = gauges
  const meter = metrics.getMeter(METER_NAME)
  let instruments = byMeter.get(meter)
  if (!instruments) {
    instruments = createInstruments(meter)
    byMeter.set(meter, instruments)
  }
  return recorder(instruments)
}

function createInstruments(meter: Meter): Instruments {
  const inFlight = meter.createObservableGauge(
    "workflow_engine.runs.in_flight",
    {
      description:
        "Stored runs not finished (not started, invoking, compensating)",
      unit: "{run}",
      valueType: ValueType.INT,
    }
  )
  const stuck = meter.createObservableGauge("workflow_engine.runs.stuck", {
    description: "Runs the stuck scan reported that have not moved since",
    unit: "{run}",
    valueType: ValueType.INT,
  })
  const listener: ObservableGauge = meter.createObservableGauge(
    "workflow_engine.listener.connected",
    {
      description:
        "1 while this instance's LISTEN connection is up, 0 otherwise",
      valueType: ValueType.INT,
    }
  )
  meter.addBatchObservableCallback(
    async (observer) => {
      if (!sources) {
        return
      }
      observer.observe(listener, sources.listenerConnected() ? 1 : 0)
      // A database that cannot be reached leaves the gauges out of this collection instead of failing it.
      const counts = await sources.counts().catch(() => undefined)
      if (counts) {
        observer.observe(inFlight, counts.inFlight)
        observer.observe(stuck, counts.stuck)
      }
    },
    [inFlight, stuck, listener]
  )
  return {
    runsEnded: meter.createCounter("workflow_engine.runs.ended", {
      description: "Runs that ended, by workflow and result",
      unit: "{run}",
      valueType: ValueType.INT,
    }),
    runDuration: meter.createHistogram("workflow_engine.run.duration", {
      description: "From a run's start to its end, by workflow and result",
      unit: "s",
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    stepsFailed: meter.createCounter("workflow_engine.steps.failed", {
      description:
        "Steps that failed for good (no retry left), by workflow and step",
      unit: "{step}",
      valueType: ValueType.INT,
    }),
    stepsRetried: meter.createCounter("workflow_engine.steps.retried", {
      description: "Attempts of a step after its first, by workflow and step",
      unit: "{attempt}",
      valueType: ValueType.INT,
    }),
    timersFired: meter.createCounter("workflow_engine.timers.fired", {
      description: "Durable timers fired, by kind and result",
      unit: "{timer}",
      valueType: ValueType.INT,
    }),
    timerLateness: meter.createHistogram("workflow_engine.timer.lateness", {
      description: "How long after its due time a timer fired, by kind",
      unit: "ms",
      advice: { explicitBucketBoundaries: MILLISECONDS_BUCKETS },
    }),
    takeovers: meter.createCounter("workflow_engine.recovery.takeovers", {
      description: "Runs of dead instances taken over, by workflow and action",
      unit: "{run}",
      valueType: ValueType.INT,
    }),
    purgeRows: meter.createCounter("workflow_engine.purge.rows", {
      description: "Finished executions deleted by purge passes, by trigger",
      unit: "{row}",
      valueType: ValueType.INT,
    }),
    purgeDuration: meter.createHistogram("workflow_engine.purge.duration", {
      description: "How long a purge pass took, by trigger and result",
      unit: "s",
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
  }
}

function recorder(instruments: Instruments): EngineRecorder {
  return {
    runEnded(run: EndedRun) {
      const attributes = { workflow_id: run.workflowId, result: run.result }
      instruments.runsEnded.add(1, attributes)
      if (run.startedAtMs !== undefined) {
        instruments.runDuration.record(
          Math.max(0, Date.now() - run.startedAtMs) / 1000,
          attributes
        )
      }
    },
    stepFailed(workflowId, stepId) {
      instruments.stepsFailed.add(1, { workflow_id: workflowId, step: stepId })
    },
    stepRetried(workflowId, stepId) {
      instruments.stepsRetried.add(1, { workflow_id: workflowId, step: stepId })
    },
    timerFired(kind, latenessMs, failed) {
      instruments.timersFired.add(1, {
        kind,
        result: failed ? "error" : "ok",
      })
      instruments.timerLateness.record(Math.max(0, latenessMs), { kind })
    },
    takeover(workflowId, action) {
      instruments.takeovers.add(1, { workflow_id: workflowId, action })
    },
    purged(trigger, rows, durationMs, failed) {
      instruments.purgeRows.add(rows, { trigger })
      instruments.purgeDuration.record(durationMs / 1000, {
        trigger,
        result: failed ? "error" : "ok",
      })
    },
  }
}
