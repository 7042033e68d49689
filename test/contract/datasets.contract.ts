import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { newEventId, type DatasetEvent, type DatasetSink } from "../../src/adapters/datasets/index.js";

export interface DatasetSinkFixture {
  readonly sink: DatasetSink;
  cleanup?: () => Promise<void>;
}

let clock = Date.parse("2026-04-01T00:00:00.000Z");
/** Events with increasing ids, as DatasetsService makes them. */
export function makeEvent(tenantId: string, over: Partial<DatasetEvent> = {}): DatasetEvent {
  const now = new Date((clock += 1000));
  return {
    eventId: newEventId(now),
    tenantId,
    type: "page.view",
    dataset: "events",
    payload: { n: 1 },
    occurredAt: new Date(now.getTime() - 500).toISOString(),
    receivedAt: now.toISOString(),
    ...over,
  };
}

export function describeDatasetSinkContract(label: string, make: () => Promise<DatasetSinkFixture>): void {
  describe(`DatasetSink contract: ${label}`, () => {
    let fx: DatasetSinkFixture;
    let sink: DatasetSink;
    // Fresh tenants per run: suites sharing a backend never see each other's events.
    const tenant = (n: string) => `${n}-${randomBytes(4).toString("hex")}`;

    before(async () => {
      fx = await make();
      sink = fx.sink;
    });
    after(async () => {
      await sink.close();
      await fx.cleanup?.();
    });

    it("stores events and lists them in eventId order with every field intact", async () => {
      const t = tenant("a");
      const a = makeEvent(t, { payload: { nested: [[1, 2], [3]], text: "héllo ✓", nil: null, deep: { x: { y: true } } }, actor: "alice" });
      const b = makeEvent(t, { type: "click" });
      await sink.write([b, a]);
      const page = await sink.list(t, { limit: 10 });
      assert.deepEqual(page, { items: [a, b], nextCursor: null });
      assert.equal("actor" in page.items[1]!, false, "absent actor stays absent");
    });

    it("is idempotent by eventId, within a batch and across writes", async () => {
      const t = tenant("idem");
      const e = makeEvent(t);
      const f = makeEvent(t);
      await sink.write([e, e, f]);
      await sink.write([e]);
      await sink.write([f, e]);
      assert.deepEqual((await sink.list(t, { limit: 10 })).items, [e, f]);
    });

    it("keeps tenants apart and filters by dataset", async () => {
      const a = tenant("a");
      const b = tenant("b");
      const ea = makeEvent(a, { dataset: "audit" });
      const ea2 = makeEvent(a, { dataset: "events" });
      const eb = makeEvent(b, { dataset: "audit" });
      await sink.write([ea, ea2, eb]);
      assert.deepEqual((await sink.list(a, { limit: 10 })).items, [ea, ea2]);
      assert.deepEqual((await sink.list(a, { dataset: "audit", limit: 10 })).items, [ea]);
      assert.deepEqual((await sink.list(b, { limit: 10 })).items, [eb]);
      assert.deepEqual((await sink.list(tenant("none"), { limit: 10 })), { items: [], nextCursor: null });
    });

    it("pages with cursors: no gap, no duplicate, null at the end", async () => {
      const t = tenant("page");
      const all = Array.from({ length: 7 }, () => makeEvent(t, { dataset: "p" }));
      await sink.write(all);
      const seen: DatasetEvent[] = [];
      let after: string | undefined;
      const sizes: number[] = [];
      for (let i = 0; i < 10; i++) {
        const page = await sink.list(t, { dataset: "p", limit: 3, ...(after ? { after } : {}) });
        seen.push(...page.items);
        sizes.push(page.items.length);
        if (!page.nextCursor) break;
        after = page.nextCursor;
      }
      assert.deepEqual(sizes, [3, 3, 1]);
      assert.deepEqual(seen, all);
      const exact = await sink.list(t, { dataset: "p", limit: 7 });
      assert.equal(exact.nextCursor, null, "a page that holds the rest has no cursor");
      assert.deepEqual(await sink.list(t, { limit: 5, after: all[6]!.eventId }), { items: [], nextCursor: null });
    });

    it("writes a batch larger than the backend's own batch limit", async () => {
      const t = tenant("big");
      const many = Array.from({ length: 450 }, (_, i) => makeEvent(t, { payload: { i } }));
      await sink.write(many);
      const page = await sink.list(t, { limit: 500 });
      assert.equal(page.items.length, 450);
      assert.deepEqual(page.items.map((e) => e.payload.i), many.map((_, i) => i));
    });

    it("reports healthy", async () => {
      const h = await sink.health();
      assert.equal(h.ok, true, h.detail);
      assert.equal(h.backend, sink.backend);
    });
  });
}
