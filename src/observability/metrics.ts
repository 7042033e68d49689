import { PerformanceObserver, constants as perfConstants, monitorEventLoopDelay, type PerformanceEntry } from "node:perf_hooks";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Seconds: from a tenth of a millisecond (a commit on a fast disk) to seconds (a stalled disk, an admission wait). */
const LATENCY_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** The supervisor's registry: process-wide defaults (heap, GC, main-loop lag) plus what adapters register. */
export function createSupervisorMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  return { registry };
}

const LAG_RESOLUTION_MS = 20;

/**
 * monitorEventLoopDelay records the whole interval between its timer's runs,
 * resolution included (an idle loop reads 20.2 ms at a 20 ms resolution), so
 * the delay is what exceeds the resolution. Takes nanoseconds, as the histogram gives them.
 */
export const loopDelaySeconds = (ns: number, resolutionMs = LAG_RESOLUTION_MS): number => Math.max(0, ns / 1e6 - resolutionMs) / 1000;

/** Stops what a thread's metrics watch (timers, observers), so a registry built and dropped leaves nothing running. */
type Stop = () => void;

/** This thread's event-loop delay p99 since the previous scrape (each collect starts a new window). */
function loopLagGauge(registry: Registry, name: string, help: string, stops: Stop[]): Gauge {
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  stops.push(() => lag.disable());
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(loopDelaySeconds(lag.percentile(99)));
      lag.reset();
    },
  });
}

/** Seconds: a scavenge of a small heap (~0.3 ms) to a long full collection. */
const GC_PAUSE_SECONDS = [0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128];

const GC_KINDS: ReadonlyMap<number, string> = new Map([
  [perfConstants.NODE_PERFORMANCE_GC_MINOR, "minor"],
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR, "major"],
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL, "incremental"],
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB, "weakcb"],
]);

/**
 * This thread's garbage-collection pauses, by kind. Every worker is its own V8
 * isolate, so each pauses on its own, and Node's default GC metric sees only
 * the supervisor's. A pause holds the thread's loop: on the rooms bench a few
 * ms every half second was enough to set the delivery p99 (bench/README, tenth session).
 */
function gcPauseHistogram(registry: Registry, name: string, help: string, stops: Stop[]): Histogram<"kind"> {
  const pauses = new Histogram({ name, help, labelNames: ["kind"] as const, buckets: GC_PAUSE_SECONDS, registers: [registry] });
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      // Node ≥ 16 puts the kind in `detail`; the entry's own `kind` is the deprecated spelling.
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      pauses.observe({ kind: GC_KINDS.get(kind ?? -1) ?? "other" }, e.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  stops.push(() => observer.disconnect());
  return pauses;
}

/**
 * A front's own registry (one per front worker); the supervisor aggregates
 * all of them into /metrics. Front metrics carry a `front` label so sums
 * across fronts stay meaningful.
 */
export function createFrontMetrics(front: number) {
  const registry = new Registry();
  registry.setDefaultLabels({ front: String(front) });
  const stops: Stop[] = [];
  return {
    registry,
    /** Ends the loop-delay sampling and the GC observer (the front is closing). */
    stop: () => stops.splice(0).forEach((stop) => stop()),
    httpRequests: new Counter({
      name: "switchyard_http_requests_total",
      help: "HTTP requests by route pattern, method and status",
      labelNames: ["route", "method", "status"] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "switchyard_http_request_duration_seconds",
      help: "HTTP request latency by route pattern",
      labelNames: ["route", "method"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    openConnections: new Gauge({
      name: "switchyard_open_connections",
      help: "Open client connections by kind (ws, sse)",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    eventsAppended: new Counter({
      name: "switchyard_events_appended_total",
      help: "Events durably appended through this front, by resource kind",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    wsPublishDuration: new Histogram({
      name: "switchyard_ws_publish_duration_seconds",
      help: "From a WebSocket publish frame to its ack: validation, authorisation, admission and the durable append",
      buckets: LATENCY_SECONDS,
      registers: [registry],
    }),
    eventLoopLag: loopLagGauge(registry, "switchyard_front_eventloop_lag_seconds", "p99 event-loop delay of the front thread since the last scrape", stops),
    gcPauses: gcPauseHistogram(registry, "switchyard_front_gc_pause_seconds", "Garbage-collection pauses of the front thread's V8 isolate, by kind", stops),
  };
}

export type Metrics = ReturnType<typeof createFrontMetrics>;

/**
 * An actor worker's registry, aggregated into /metrics like the fronts'
 * (label `worker`). Where a publish's time goes inside the worker: the group
 * commits (duration, size) and each append's wait for durability.
 */
export function createActorMetrics(worker: number) {
  const registry = new Registry();
  registry.setDefaultLabels({ worker: String(worker) });
  const commitDuration = new Histogram({
    name: "switchyard_commit_duration_seconds",
    help: "Duration of one group commit to the event log (the transaction and its fsync)",
    buckets: LATENCY_SECONDS,
    registers: [registry],
  });
  const commitEvents = new Histogram({
    name: "switchyard_commit_events",
    help: "Events written by one group commit",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048],
    registers: [registry],
  });
  const appendWait = new Histogram({
    name: "switchyard_append_wait_seconds",
    help: "From an actor's append request to its durability, time spent behind earlier commits included",
    buckets: LATENCY_SECONDS,
    registers: [registry],
  });
  const stops: Stop[] = [];
  // A commit runs synchronously on this loop: publishes arriving meanwhile wait here, before any append wait starts.
  loopLagGauge(registry, "switchyard_actor_eventloop_lag_seconds", "p99 event-loop delay of the actor worker thread since the last scrape", stops);
  gcPauseHistogram(registry, "switchyard_actor_gc_pause_seconds", "Garbage-collection pauses of the actor worker thread's V8 isolate, by kind", stops);
  return {
    registry,
    /** Ends the loop-delay sampling and the GC observer (the worker is closing). */
    stop: () => stops.splice(0).forEach((stop) => stop()),
    commits: {
      committed(seconds: number, events: number): void {
        commitDuration.observe(seconds);
        commitEvents.observe(events);
      },
      appended(seconds: number): void {
        appendWait.observe(seconds);
      },
    },
  };
}
