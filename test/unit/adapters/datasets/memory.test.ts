import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { getDatasetBackend, MemoryDatasetSink } from "../../../../src/adapters/datasets/index.js";
import { configFrom } from "../../../../src/config/index.js";
import { createLogger } from "../../../../src/observability/logger.js";
import { makeEvent } from "../../../contract/datasets.contract.js";

const ids = async (sink: { list: MemoryDatasetSink["list"] }, tenant: string) => (await sink.list(tenant, { limit: 500 })).items.map((e) => e.payload.i);

describe("memory datasets backend is bounded", () => {
  it("keeps the newest maxEvents across tenants, dropping the oldest by arrival, and says how many it dropped", async () => {
    const dropped: number[] = [];
    const sink = new MemoryDatasetSink(5, (n) => dropped.push(n));
    await sink.write([1, 2, 3].map((i) => makeEvent("ta", { payload: { i } })));
    const b = [4, 5, 6, 7].map((i) => makeEvent("tb", { payload: { i } }));
    await sink.write(b);
    assert.equal(sink.size, 5);
    assert.deepEqual(dropped, [2]);
    assert.deepEqual(await ids(sink, "ta"), [3], "ta's two oldest went first");
    assert.deepEqual(await ids(sink, "tb"), [4, 5, 6, 7]);
    // A repeated event id is not a new event: nothing else is dropped for it.
    await sink.write([b[0]!]);
    assert.equal(sink.size, 5);
    assert.deepEqual(dropped, [2]);
    await sink.write([makeEvent("tb", { payload: { i: 8 } })]);
    assert.deepEqual(await ids(sink, "ta"), [], "ta emptied");
    assert.deepEqual(dropped, [2, 1]);
  });

  it("stays at its bound over many writes (the arrival queue is compacted), listing the newest", async () => {
    const sink = new MemoryDatasetSink(100);
    for (let w = 0; w < 50; w++) await sink.write(Array.from({ length: 100 }, (_, k) => makeEvent("t", { payload: { i: w * 100 + k } })));
    assert.equal(sink.size, 100);
    assert.deepEqual(await ids(sink, "t"), Array.from({ length: 100 }, (_, k) => 4900 + k));
  });

  it("NEXUS_MEMORY_MAX_EVENTS sets the default backend's bound; drops are counted and logged once", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger("debug", { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const registry = new Registry();
    const backend = await getDatasetBackend(configFrom({ NEXUS_MEMORY_MAX_EVENTS: "3" }), { logger, registry });
    for (let i = 0; i < 5; i++) await backend.accept([makeEvent("t", { payload: { i } })]);
    assert.deepEqual(await ids(backend, "t"), [2, 3, 4]);
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === "switchyard_datasets_memory_evicted_total");
    assert.equal(metric?.values[0]?.value, 2);
    assert.equal(lines.filter((l) => /memory datasets backend is full/.test(String(l.msg))).length, 1, "one warning, not one per drop");
    assert.equal(configFrom({}).NEXUS_MEMORY_MAX_EVENTS, 100_000);
    assert.throws(() => configFrom({ NEXUS_MEMORY_MAX_EVENTS: "0" }));
  });
});
