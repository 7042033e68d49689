import { Counter, Gauge, type Registry } from "prom-client";
import { AppError } from "../../errors/index.js";
import type { Logger } from "../../observability/logger.js";
import type { DatasetEvent, DatasetPage, DatasetQuery, DatasetSink, SinkHealth } from "./datasets.js";
import { pageOf } from "./datasets.js";
import { SpoolDrainer, type DrainerOptions } from "./drainer.js";
import { clearFallback, declareFallback, describeFallback, type FallbackMetrics, type FallbackState } from "./fallback.js";
import type { DatasetSpool } from "./spool.js";

export type Wanted = "memory" | "firestore" | "bigquery";

export interface DatasetBackend {
  readonly wanted: Wanted;
  /** Durably stores the events; returns the name of where they went ("firestore", "spool", …). */
  accept(events: readonly DatasetEvent[]): Promise<string>;
  list(tenantId: string, q: DatasetQuery): Promise<DatasetPage>;
  /** For /readyz, e.g. "spool (fallback: firestore unavailable: FIRESTORE_PROJECT_ID is not set)". */
  describe(): string;
  health(): Promise<SinkHealth>;
  close(): Promise<void>;
}

/** The memory backend needs no spool: it cannot be down. */
export class DirectBackend implements DatasetBackend {
  readonly wanted = "memory" as const;
  constructor(readonly sink: DatasetSink) {}
  async accept(events: readonly DatasetEvent[]): Promise<string> {
    await this.sink.write(events);
    return this.sink.backend;
  }
  list(tenantId: string, q: DatasetQuery): Promise<DatasetPage> {
    return this.sink.list(tenantId, q);
  }
  describe(): string {
    return this.sink.backend;
  }
  health(): Promise<SinkHealth> {
    return this.sink.health();
  }
  close(): Promise<void> {
    return this.sink.close();
  }
}

export interface SpooledBackendOptions {
  readonly wanted: Exclude<Wanted, "memory">;
  /** undefined: the backend could not be built at all; the spool is the store until restart. */
  readonly sink: DatasetSink | undefined;
  readonly spool: DatasetSpool;
  readonly logger: Logger;
  readonly metrics: FallbackMetrics;
  readonly registry?: Registry;
  /** Set when start-up already found the backend unusable. */
  readonly initialFallback?: FallbackState;
  readonly directTimeoutMs?: number;
  readonly drain?: DrainerOptions;
  readonly onClose?: () => Promise<void>;
}

// A configured cloud backend fronted by the durable spool. Healthy and with nothing spooled, an
// accept writes straight to the backend (so "backend":"firestore" means it is in Firestore).
// Otherwise it lands in the spool (fsynced) and the drainer forwards it in order. Because
// accepts go to the spool whenever it is non-empty, spooled events are never overtaken.
export class SpooledBackend implements DatasetBackend {
  readonly wanted: Exclude<Wanted, "memory">;
  private fallback: FallbackState | undefined;
  private readonly drainer: SpoolDrainer | undefined;
  private readonly depthGauge: Gauge;
  private readonly accepted: Counter<"backend">;

  constructor(private readonly o: SpooledBackendOptions) {
    this.wanted = o.wanted;
    const registers = o.registry ? [o.registry] : [];
    this.depthGauge = (o.registry?.getSingleMetric("switchyard_datasets_spool_depth") as Gauge | undefined) ??
      new Gauge({ name: "switchyard_datasets_spool_depth", help: "Dataset events waiting in the local spool", registers });
    this.accepted = (o.registry?.getSingleMetric("switchyard_datasets_accepted_total") as Counter<"backend"> | undefined) ??
      new Counter({ name: "switchyard_datasets_accepted_total", help: "Dataset events accepted, by where they were stored", labelNames: ["backend"], registers });
    if (o.initialFallback) this.enterFallback(o.initialFallback);
    if (o.sink) {
      const sink = o.sink;
      this.drainer = new SpoolDrainer(o.spool, sink, {
        onFailure: (reason) => this.enterFallback({ wanted: this.wanted, using: "spool", kind: "write_failed", reason }),
        onDrained: () => this.leaveFallback(),
        degraded: () => this.fallback !== undefined,
        onProgress: () => this.depthGauge.set(o.spool.depth()),
      }, o.logger, o.drain);
      this.drainer.start();
    }
    this.depthGauge.set(o.spool.depth());
  }

  private enterFallback(s: FallbackState): void {
    if (this.fallback) return; // one warn per outage, not one per retry
    this.fallback = s;
    declareFallback("datasets", s, this.o.logger, this.o.metrics);
  }

  private leaveFallback(): void {
    this.depthGauge.set(0);
    if (!this.fallback) return;
    clearFallback("datasets", { wanted: this.wanted, using: "spool" }, this.o.logger, this.o.metrics);
    this.fallback = undefined;
  }

  async accept(events: readonly DatasetEvent[]): Promise<string> {
    const sink = this.o.sink;
    if (sink && !this.fallback && this.o.spool.depth() === 0) {
      try {
        await withTimeout(sink.write(events), this.o.directTimeoutMs ?? 3000);
        this.accepted.inc({ backend: sink.backend }, events.length);
        return sink.backend;
      } catch (e) {
        // Not lost: spooled below (the write may still land later; eventId makes that harmless).
        this.enterFallback({ wanted: this.wanted, using: "spool", kind: "write_failed", reason: e instanceof Error ? e.message : String(e) });
      }
    }
    this.o.spool.append(events);
    this.accepted.inc({ backend: "spool" }, events.length);
    this.depthGauge.set(this.o.spool.depth());
    this.drainer?.kick();
    return "spool";
  }

  // Spool first, then the backend: an event the drainer moves in between is then seen in the
  // spool (and maybe again in the backend, deduplicated), never in neither.
  async list(tenantId: string, q: DatasetQuery): Promise<DatasetPage> {
    const spooled = await this.o.spool.list(tenantId, q);
    if (!this.o.sink) return spooled;
    let stored: DatasetPage;
    try {
      stored = await this.o.sink.list(tenantId, q);
    } catch (e) {
      throw new AppError("ERR_NOT_READY", { message: `dataset backend ${this.wanted} cannot be read now`, cause: e });
    }
    const byId = new Map<string, DatasetEvent>();
    for (const e of [...stored.items, ...spooled.items]) byId.set(e.eventId, e);
    const merged = [...byId.values()].sort((a, b) => (a.eventId < b.eventId ? -1 : 1));
    const more = stored.nextCursor !== null || spooled.nextCursor !== null;
    const page = pageOf(merged, q.limit);
    return merged.length > q.limit || !more ? page : { items: page.items, nextCursor: page.items.at(-1)?.eventId ?? null };
  }

  describe(): string {
    if (this.fallback) return describeFallback(this.fallback);
    const depth = this.o.spool.depth();
    return depth > 0 ? `${this.wanted} (draining ${depth} spooled events)` : this.wanted;
  }

  /** Ready even while degraded: the spool accepts durably; describe() names the state. */
  async health(): Promise<SinkHealth> {
    const spool = await this.o.spool.health();
    return spool.ok ? { ok: true, backend: this.describe() } : { ok: false, backend: "spool", detail: "spool database is closed" };
  }

  async close(): Promise<void> {
    await this.drainer?.stop();
    await this.o.sink?.close();
    await this.o.spool.close();
    // terminate() waits for in-flight SDK retries (up to ~45 s against a dead server): bounded.
    if (this.o.onClose) await withTimeout(this.o.onClose(), 5000).catch((e: unknown) => this.o.logger.warn({ adapter: "datasets", err: String(e) }, "closing the backend client timed out"));
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, r) => (timer = setTimeout(() => r(new Error(`no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
