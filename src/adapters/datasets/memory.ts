import { pageOf, type DatasetEvent, type DatasetPage, type DatasetQuery, type DatasetSink, type SinkHealth } from "./datasets.js";

/** Complete, deterministic sink for dev and tests. */
export class MemoryDatasetSink implements DatasetSink {
  readonly backend = "memory" as const;
  private readonly byTenant = new Map<string, Map<string, DatasetEvent>>();

  async write(events: readonly DatasetEvent[]): Promise<void> {
    for (const e of events) {
      let m = this.byTenant.get(e.tenantId);
      if (!m) this.byTenant.set(e.tenantId, (m = new Map()));
      if (!m.has(e.eventId)) m.set(e.eventId, structuredClone(e));
    }
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
