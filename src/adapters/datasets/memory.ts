import { pageOf, type DatasetEvent, type DatasetPage, type DatasetQuery, type DatasetSink, type SinkHealth } from "./datasets.js";

/** Events kept by default: ~75 MB of heap for typical audit events (measured: 739 bytes each). */
export const MEMORY_DATASET_MAX_EVENTS = 100_000;

/**
 * Deterministic sink for dev and tests, and the embedded default. Every HTTP
 * mutation is audited into it, so it is bounded: past `maxEvents` the oldest
 * events (by arrival, across tenants) are dropped and `onEvict` is told how
 * many. A store that must keep everything is firestore or bigquery.
 */
export class MemoryDatasetSink implements DatasetSink {
  readonly backend = "memory" as const;
  private readonly byTenant = new Map<string, Map<string, DatasetEvent>>();
  /** Arrival order, oldest first from `head`: which event to drop next. */
  private order: Array<readonly [tenant: string, eventId: string]> = [];
  private head = 0;

  constructor(
    private readonly maxEvents = MEMORY_DATASET_MAX_EVENTS,
    private readonly onEvict: (events: number) => void = () => {},
  ) {}

  /** Events held now. */
  get size(): number {
    return this.order.length - this.head;
  }

  async write(events: readonly DatasetEvent[]): Promise<void> {
    for (const e of events) {
      let m = this.byTenant.get(e.tenantId);
      if (!m) this.byTenant.set(e.tenantId, (m = new Map()));
      if (m.has(e.eventId)) continue;
      m.set(e.eventId, structuredClone(e));
      this.order.push([e.tenantId, e.eventId]);
    }
    let evicted = 0;
    while (this.size > this.maxEvents) {
      const [tenant, id] = this.order[this.head++] as readonly [string, string];
      const m = this.byTenant.get(tenant);
      m?.delete(id);
      if (m?.size === 0) this.byTenant.delete(tenant);
      evicted++;
    }
    // Drop the consumed prefix once it is most of the array, so eviction stays O(1) amortised.
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
    if (evicted > 0) this.onEvict(evicted);
  }

  async list(tenantId: string, q: DatasetQuery): Promise<DatasetPage> {
    const all = [...(this.byTenant.get(tenantId)?.values() ?? [])]
      .filter((e) => (q.dataset === undefined || e.dataset === q.dataset) && (q.after === undefined || e.eventId > q.after))
      .sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
    return pageOf(all.slice(0, q.limit + 1).map((e) => structuredClone(e)), q.limit);
  }

  async health(): Promise<SinkHealth> {
    return { ok: true, backend: "memory" };
  }

  async close(): Promise<void> {}
}
