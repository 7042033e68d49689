import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Metrics owned by the node; adapters register theirs on the same registry. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  return {
    registry,
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
      help: "Open client connections by kind (http, ws, sse)",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    eventsAppended: new Counter({
      name: "switchyard_events_appended_total",
      help: "Events durably appended, by resource kind",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
