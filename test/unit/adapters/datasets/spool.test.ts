import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Registry } from "prom-client";
import { createLogger } from "../../../../src/observability/logger.js";
import { DatasetSpool, MemoryDatasetSink, SinkError, type DatasetEvent, type DatasetSink } from "../../../../src/adapters/datasets/index.js";
import { SpooledBackend } from "../../../../src/adapters/datasets/backend.js";
import { fallbackMetrics } from "../../../../src/adapters/datasets/fallback.js";
import { makeEvent } from "../../../contract/datasets.contract.js";

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "sy-spool-"));
  after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function captured() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger("debug", { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }) };
}

async function eventually(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A sink whose behaviour per write call is scripted; the default is to pass through. */
class ScriptedSink implements DatasetSink {
  readonly backend = "firestore" as const;
  readonly calls: string[][] = [];
  script: ((events: readonly DatasetEvent[]) => Promise<void> | void)[] = [];
  constructor(readonly inner = new MemoryDatasetSink()) {}
  async write(events: readonly DatasetEvent[]): Promise<void> {
    this.calls.push(events.map((e) => e.eventId));
    const step = this.script.shift();
    if (step) return step(events);
    return this.inner.write(events);
  }
  list = (t: string, q: Parameters<DatasetSink["list"]>[1]) => this.inner.list(t, q);
  health = async () => ({ ok: true, backend: "firestore" });
  close = async () => {};
}

function backend(dir: string, sink: DatasetSink | undefined, logger = captured().logger, registry = new Registry()) {
  const b = new SpooledBackend({
    wanted: "firestore", sink, spool: new DatasetSpool(dir), logger, metrics: fallbackMetrics(registry), registry,
    drain: { batchSize: 4, baseDelayMs: 5, maxDelayMs: 20 },
  });
  after(() => b.close());
  return b;
}

const down = () => Promise.reject(new SinkError("firestore: 14 UNAVAILABLE", { retryable: true }));

describe("DatasetSpool and its drainer", () => {
  it("the spool survives reopening, keeps accept order, ignores a re-appended eventId", async () => {
    const dir = tmp();
    const s1 = new DatasetSpool(dir);
    const evs = Array.from({ length: 5 }, () => makeEvent("t1"));
    s1.append(evs.slice(0, 3));
    s1.append([evs[0]!, ...evs.slice(3)]);
    await s1.close();
    const s2 = new DatasetSpool(dir);
    after(() => s2.close());
    assert.equal(s2.depth(), 5);
    assert.deepEqual(s2.peek(10), evs);
  });

  it("backend down: accepts go to the spool (one warn), nothing leaves it; back up: drains in order, exactly once", async () => {
    const { logger, lines } = captured();
    const sink = new ScriptedSink();
    sink.script = [down, down, down, down, down];
    const registry = new Registry();
    const b = backend(tmp(), sink, logger, registry);
    const evs = Array.from({ length: 10 }, () => makeEvent("t1"));
    // The first accept tries the backend directly, fails, and is spooled.
    for (const e of evs) assert.equal(await b.accept([e]), "spool");
    await eventually(() => sink.script.length === 0, "the scripted failures to be used up");
    await eventually(() => b.describe() === "firestore", "drained");
    assert.deepEqual((await sink.inner.list("t1", { limit: 100 })).items, evs);
    const warns = lines.filter((l) => l.level === 40);
    assert.equal(warns.length, 1, "one warn per outage, not per retry");
    assert.deepEqual({ adapter: warns[0]!.adapter, wanted: warns[0]!.wanted, using: warns[0]!.using }, { adapter: "datasets", wanted: "firestore", using: "spool" });
    assert.ok(lines.some((l) => l.level === 30 && /available again/.test(String(l.msg))));
    const text = await registry.metrics();
    assert.match(text, /switchyard_adapter_fallback_active\{adapter="datasets",wanted="firestore",using="spool"\} 0/);
    assert.match(text, /switchyard_adapter_fallbacks_total\{adapter="datasets",wanted="firestore",kind="write_failed"\} 1/);
    assert.match(text, /switchyard_datasets_spool_depth 0/);
    // Healthy and empty again: the next accept goes straight to the backend.
    assert.equal(await b.accept([makeEvent("t1")]), "firestore");
  });

  it("a crash between the backend's confirmation and the spool removal duplicates nothing", async () => {
    const sink = new ScriptedSink();
    const dir = tmp();
    const spool = new DatasetSpool(dir);
    const evs = Array.from({ length: 6 }, () => makeEvent("t1"));
    spool.append(evs);
    await spool.close();
    // The backend stores the batch, then the "process dies" before removal: simulated by the
    // write succeeding at the backend and the call failing anyway.
    sink.script = [async (batch) => { await sink.inner.write(batch); throw new SinkError("connection reset after commit", { retryable: true }); }];
    const b = backend(dir, sink);
    await eventually(() => b.describe() === "firestore", "drained after the restart");
    assert.deepEqual((await sink.inner.list("t1", { limit: 100 })).items, evs);
    assert.deepEqual(sink.calls[0], sink.calls[1], "the same batch was written again");
  });

  it("rows the backend rejects for their content go to the dead table and do not block the rest", async () => {
    const { logger, lines } = captured();
    const sink = new ScriptedSink();
    const dir = tmp();
    const spool = new DatasetSpool(dir);
    const evs = Array.from({ length: 3 }, () => makeEvent("t1"));
    spool.append(evs);
    await spool.close();
    sink.script = [() => Promise.reject(new SinkError("1 row rejected", { retryable: true, rejected: new Map([[evs[1]!.eventId, "invalid: bad"]]) }))];
    const b = backend(dir, sink, logger);
    await eventually(() => b.describe() === "firestore", "drained");
    assert.deepEqual((await sink.inner.list("t1", { limit: 10 })).items, [evs[0], evs[2]]);
    const check = new DatasetSpool(dir);
    after(() => check.close());
    assert.equal(check.deadCount(), 1);
    assert.ok(lines.some((l) => l.level === 50 && JSON.stringify(l.rejected).includes(evs[1]!.eventId)));
  });

  it("a batch refused as a whole (not retryable) is isolated to its one culprit", async () => {
    const sink = new ScriptedSink();
    const dir = tmp();
    const spool = new DatasetSpool(dir);
    const evs = Array.from({ length: 3 }, () => makeEvent("t1"));
    spool.append(evs);
    await spool.close();
    const culprit = evs[1]!.eventId;
    const refuseCulprit = (batch: readonly DatasetEvent[]) =>
      batch.some((e) => e.eventId === culprit) ? Promise.reject(new SinkError("INVALID_ARGUMENT", { retryable: false })) : sink.inner.write(batch);
    sink.script = Array.from({ length: 10 }, () => refuseCulprit);
    const b = backend(dir, sink);
    await eventually(() => b.describe() === "firestore", "drained");
    assert.deepEqual((await sink.inner.list("t1", { limit: 10 })).items, [evs[0], evs[2]]);
  });

  it("a fallback entered at start ends by health probe even when no event arrives", async () => {
    const sink = new ScriptedSink();
    let healthy = false;
    sink.health = async () => ({ ok: healthy, backend: "firestore" });
    const registry = new Registry();
    const b = new SpooledBackend({
      wanted: "firestore", sink, spool: new DatasetSpool(tmp()), logger: captured().logger, metrics: fallbackMetrics(registry), registry,
      initialFallback: { wanted: "firestore", using: "spool", kind: "unreachable", reason: "no answer within 1000 ms" },
      drain: { baseDelayMs: 5, maxDelayMs: 20 },
    });
    after(() => b.close());
    assert.equal(b.describe(), "spool (fallback: firestore unavailable: no answer within 1000 ms)");
    await new Promise((r) => setTimeout(r, 50));
    assert.match(b.describe(), /^spool/, "still degraded while health says no");
    healthy = true;
    await eventually(() => b.describe() === "firestore", "probe-driven recovery");
    assert.equal(await b.accept([makeEvent("t1")]), "firestore");
  });

  it("list merges spooled and stored events in eventId order without duplicates, across pages", async () => {
    const sink = new ScriptedSink();
    const b = backend(tmp(), sink);
    const stored = Array.from({ length: 4 }, () => makeEvent("t1"));
    for (const e of stored) assert.equal(await b.accept([e]), "firestore");
    sink.script = Array.from({ length: 1000 }, () => down); // down for the rest of the test
    const spooled = Array.from({ length: 3 }, () => makeEvent("t1"));
    for (const e of spooled) assert.equal(await b.accept([e]), "spool");
    const seen: DatasetEvent[] = [];
    let after: string | undefined;
    for (let i = 0; i < 5; i++) {
      const p = await b.list("t1", { limit: 3, ...(after ? { after } : {}) });
      seen.push(...p.items);
      if (!p.nextCursor) break;
      after = p.nextCursor;
    }
    assert.deepEqual(seen, [...stored, ...spooled]);
    assert.match(b.describe(), /^spool \(fallback: firestore unavailable: firestore: 14 UNAVAILABLE\)$/);
  });
});
