import { pageOf, type DatasetEvent, type DatasetPage, type DatasetQuery, type DatasetSink, type SinkHealth } from "./datasets.js";

/** Events kept by default: ~70 MB of heap for typical audit events (measured: ~690 bytes each, JSON ~380). */
export const MEMORY_DATASET_MAX_EVENTS = 100_000;

/**
 * Deterministic sink for dev and tests, and the embedded default. Every HTTP
 * mutation is audited into it, so it is bounded: past `maxEvents` the oldest
 * events (by arrival, across tenants) are dropped and `onEvict` is told how
 * many. A store that must keep everything is firestore or bigquery.
 *
 * Each event is kept as its JSON text, one flat string, not as a copy of its
 * object graph (about a dozen objects). Under a steady write load every event
 * lives the seconds until it is dropped: long enough to leave the young
 * generation, so each was copied by the scavenger and marked by full
 * collections object by object. A string has no pointers to follow: writing
 * 1 M audit events through a full sink (one core) spent 22-26 % less time in
 * GC pauses than with the copies (1.92-2.07 s against 2.60-2.63 s).
 */
export class MemoryDatasetSink implements DatasetSink {
  readonly backend = "memory" as const;
  private readonly byTenant = new Map<string, TenantEvents>();
  /** Arrival order, oldest first from `head` (two arrays of the map keys' own strings, no tuple per event). */
  private orderTenant: string[] = [];
  private orderId: string[] = [];
  private head = 0;

  constructor(
    private readonly maxEvents = MEMORY_DATASET_MAX_EVENTS,
    private readonly onEvict: (events: number) => void = () => {},
  ) {}

  /** Events held now. */
  get size(): number {
    return this.orderId.length - this.head;
  }

  async write(events: readonly DatasetEvent[]): Promise<void> {
    for (const e of events) {
      let t = this.byTenant.get(e.tenantId);
      if (!t) this.byTenant.set(e.tenantId, (t = { json: new Map(), dataset: new Map() }));
      if (t.json.has(e.eventId)) continue;
      t.json.set(e.eventId, JSON.stringify(e));
      t.dataset.set(e.eventId, e.dataset);
      this.orderTenant.push(e.tenantId);
      this.orderId.push(e.eventId);
    }
    let evicted = 0;
    while (this.size > this.maxEvents) {
      const tenant = this.orderTenant[this.head] as string;
      const id = this.orderId[this.head++] as string;
      const t = this.byTenant.get(tenant);
      t?.json.delete(id);
      t?.dataset.delete(id);
      if (t?.json.size === 0) this.byTenant.delete(tenant);
      evicted++;
    }
    // Drop the consumed prefix once it is most of the arrays, so eviction stays O(1) amortised.
    if (this.head > 1024 && this.head * 2 > this.orderId.length) {
      this.orderTenant = this.orderTenant.slice(this.head);
      this.orderId = this.orderId.slice(this.head);
      this.head = 0;
    }
    if (evicted > 0) this.onEvict(evicted);
  }

  async list(tenantId: string, q: DatasetQuery): Promise<DatasetPage> {
    const t = this.byTenant.get(tenantId);
    if (!t) return pageOf([], q.limit);
    // Filtered and sorted by id and dataset first: only the page's events are parsed.
    const ids = [...t.dataset]
      .filter(([id, dataset]) => (q.dataset === undefined || dataset === q.dataset) && (q.after === undefined || id > q.after))
      .map(([id]) => id)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return pageOf(ids.slice(0, q.limit + 1).map((id) => JSON.parse(t.json.get(id) as string) as DatasetEvent), q.limit);
  }

  async health(): Promise<SinkHealth> {
    return { ok: true, backend: "memory" };
  }

  async close(): Promise<void> {}
}

/** One tenant's events, by id: as JSON, and their dataset (so a filtered list parses only its page). */
interface TenantEvents {
  readonly json: Map<string, string>;
  readonly dataset: Map<string, string>;
}
