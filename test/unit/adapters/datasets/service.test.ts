import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../../../../src/errors/index.js";
import { createLogger } from "../../../../src/observability/logger.js";
import { configFrom } from "../../../../src/config/index.js";
import { DatasetsService, getDatasetBackend, type DatasetBackend } from "../../../../src/adapters/datasets/index.js";

function captured() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger("debug", { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }) };
}
const invalid = (e: unknown) => e instanceof AppError && e.key === "ERR_INVALID_REQUEST" && Array.isArray(e.details);
const ctx = { tenantId: "t1", userId: "alice" };

async function memoryService(now?: () => Date) {
  const { logger, lines } = captured();
  const backend = await getDatasetBackend(configFrom({}), { logger });
  return { svc: new DatasetsService(backend, logger, now), lines, backend };
}

describe("DatasetsService", () => {
  it("accept validates the body (SPEC §4) with field details", async () => {
    const { svc } = await memoryService();
    const bad: unknown[] = [
      undefined, {}, { type: "", payload: {} }, { type: "x".repeat(65), payload: {} }, { type: "x" },
      { type: "x", payload: [] }, { type: "x", payload: "s" }, { type: "x", payload: { big: "x".repeat(64 * 1024) } },
      { type: "x", payload: {}, dataset: "Bad" }, { type: "x", payload: {}, dataset: "x".repeat(65) },
      { type: "x", payload: {}, occurredAt: "yesterday" }, { type: "x", payload: {}, extra: true },
    ];
    for (const body of bad) await assert.rejects(svc.accept(ctx, body), invalid, JSON.stringify(body)?.slice(0, 80));
  });

  it("accept answers accepted with a time-ordered eventId and the backend, and stores the event", async () => {
    let t = Date.parse("2026-06-01T00:00:00.000Z");
    const { svc } = await memoryService(() => new Date((t += 10)));
    const r1 = await svc.accept(ctx, { type: "page.view", payload: { p: 1 }, occurredAt: "2026-05-31T23:00:00+01:00" });
    const r2 = await svc.accept(ctx, { type: "click", dataset: "ui_events", payload: {} });
    assert.equal(r1.status, "accepted");
    assert.equal(r1.backend, "memory");
    assert.ok(r1.eventId < r2.eventId);
    const { items } = await svc.list(ctx, {});
    assert.deepEqual(items[0], {
      eventId: r1.eventId, tenantId: "t1", type: "page.view", dataset: "events", payload: { p: 1 },
      occurredAt: "2026-05-31T22:00:00.000Z", receivedAt: "2026-06-01T00:00:00.010Z", actor: "alice",
    });
    assert.equal(items[1]!.dataset, "ui_events");
    assert.deepEqual((await svc.list(ctx, { dataset: "ui_events" })).items.map((e) => e.eventId), [r2.eventId]);
    assert.deepEqual((await svc.list({ tenantId: "t2" }, {})).items, []);
    const payload64k = { s: "x".repeat(64 * 1024 - 8) }; // {"s":"…"} is exactly 64 KiB
    assert.equal((await svc.accept(ctx, { type: "max", payload: payload64k })).status, "accepted");
  });

  it("list parses query strings: limit 1..500 (coerced), after/cursor, dataset", async () => {
    const { svc } = await memoryService();
    for (let i = 0; i < 3; i++) await svc.accept(ctx, { type: "x", payload: { i } });
    const p1 = await svc.list(ctx, { limit: "2" });
    assert.equal(p1.items.length, 2);
    assert.ok(p1.nextCursor);
    assert.equal((await svc.list(ctx, { limit: "2", cursor: p1.nextCursor })).items.length, 1);
    assert.equal((await svc.list(ctx, { limit: "2", after: p1.nextCursor })).items.length, 1);
    for (const q of [{ limit: "0" }, { limit: "501" }, { limit: "x" }, { dataset: "A" }, { after: "a/b" }]) await assert.rejects(svc.list(ctx, q), invalid);
  });

  it("auditMany stores a turn's entries in one write, each under its own tenant, and never throws", async () => {
    const { backend } = await memoryService();
    const writes: number[] = [];
    const counting: DatasetBackend = {
      wanted: "memory",
      accept: (events) => {
        writes.push(events.length);
        return backend.accept(events);
      },
      list: (t, q) => backend.list(t, q),
      describe: () => "counting", health: async () => ({ ok: true, backend: "counting" }), close: async () => {},
    };
    const svc = new DatasetsService(counting, captured().logger);
    assert.deepEqual(await svc.auditMany([]), [], "nothing to store: no write");
    const ids = await svc.auditMany([
      { tenantId: "t1", type: "http.mutation", actor: "a", payload: { n: 1 } },
      { tenantId: "t2", type: "auth.denied", payload: { n: 2 } },
      { tenantId: "t1", type: "http.mutation", actor: "a", payload: { n: 3 } },
    ]);
    assert.deepEqual(writes, [3], "one write for the three");
    assert.equal(new Set(ids).size, 3);
    const t1 = (await svc.list(ctx, { dataset: "audit" })).items;
    assert.deepEqual(t1.map((e) => e.payload.n), [1, 3], "t1 sees its own two, in order");
    assert.deepEqual((await svc.list({ ...ctx, tenantId: "t2" }, { dataset: "audit" })).items.map((e) => e.payload.n), [2]);

    const { logger, lines } = captured();
    const broken: DatasetBackend = { ...counting, accept: () => Promise.reject(new Error("disk full")) };
    assert.deepEqual(await new DatasetsService(broken, logger).auditMany([{ tenantId: "t1", type: "x", payload: {} }, { tenantId: "t1", type: "x", payload: {} }]), []);
    assert.ok(lines.some((l) => l.level === 50 && l.adapter === "datasets" && l.events === 2));
  });

  it("audit stores a tenant-tagged event in the audit dataset, and never throws", async () => {
    const { svc } = await memoryService();
    const id = await svc.audit({ tenantId: "t1", type: "auth.denied", actor: "mallory", payload: { status: 403, route: "PUT /feature-flags/x" } });
    assert.ok(id);
    const { items } = await svc.list(ctx, { dataset: "audit" });
    assert.equal(items.length, 1);
    assert.equal(items[0]!.actor, "mallory");
    assert.equal(items[0]!.type, "auth.denied");

    const { logger, lines } = captured();
    const broken: DatasetBackend = {
      wanted: "memory", accept: () => Promise.reject(new Error("disk full")), list: () => Promise.reject(new Error("x")),
      describe: () => "broken", health: async () => ({ ok: false, backend: "broken" }), close: async () => {},
    };
    const svc2 = new DatasetsService(broken, logger);
    assert.equal(await svc2.audit({ tenantId: "t1", type: "x", payload: {} }), undefined);
    assert.ok(lines.some((l) => l.level === 50 && l.adapter === "datasets"));
    await assert.rejects(svc2.accept(ctx, { type: "x", payload: {} }), (e: unknown) => e instanceof AppError && e.key === "ERR_NOT_READY");
  });
});
