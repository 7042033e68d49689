import { Counter, Gauge, type Registry } from "prom-client";
import type { Logger } from "../../observability/logger.js";

// Fallback as a declared policy (STYLE habit 2): one structured warn per transition into the
// degraded state, a metric, and a description /readyz shows. Shared by datasets and flags.

export type FallbackKind = "not_configured" | "load_failed" | "unreachable" | "write_failed";

export interface FallbackMetrics {
  readonly active: Gauge<"adapter" | "wanted" | "using">;
  readonly total: Counter<"adapter" | "wanted" | "kind">;
}

const metricsByRegistry = new WeakMap<Registry, FallbackMetrics>();

/** One set of metrics per registry: several adapters (and tests) share a registry. */
export function fallbackMetrics(registry?: Registry): FallbackMetrics {
  const cached = registry && metricsByRegistry.get(registry);
  if (cached) return cached;
  const registers = registry ? [registry] : [];
  const m: FallbackMetrics = {
    active: new Gauge({ name: "switchyard_adapter_fallback_active", help: "1 while an adapter runs on its fallback instead of the configured backend", labelNames: ["adapter", "wanted", "using"], registers }),
    total: new Counter({ name: "switchyard_adapter_fallbacks_total", help: "Transitions of an adapter onto its fallback, by cause", labelNames: ["adapter", "wanted", "kind"], registers }),
  };
  if (registry) metricsByRegistry.set(registry, m);
  return m;
}

export interface FallbackState {
  readonly wanted: string;
  readonly using: string;
  readonly kind: FallbackKind;
  readonly reason: string;
}

/** Enters the fallback: the one warn line, the counter, the gauge. */
export function declareFallback(adapter: string, s: FallbackState, logger: Logger, metrics: FallbackMetrics): void {
  logger.warn({ adapter, wanted: s.wanted, using: s.using, reason: s.reason, kind: s.kind }, `${adapter}: ${s.wanted} unavailable, using ${s.using}`);
  metrics.total.inc({ adapter, wanted: s.wanted, kind: s.kind });
  metrics.active.set({ adapter, wanted: s.wanted, using: s.using }, 1);
}

export function clearFallback(adapter: string, s: { wanted: string; using: string }, logger: Logger, metrics: FallbackMetrics): void {
  logger.info({ adapter, wanted: s.wanted, using: s.wanted }, `${adapter}: ${s.wanted} available again`);
  metrics.active.set({ adapter, wanted: s.wanted, using: s.using }, 0);
}

export const describeFallback = (s: FallbackState): string => `${s.using} (fallback: ${s.wanted} unavailable: ${s.reason})`;
