import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Registry } from "prom-client";
import { configFrom } from "../../../src/config/index.js";
import { createLogger } from "../../../src/observability/logger.js";
import { DatasetsService, FirestoreDatasetSink, getDatasetBackend } from "../../../src/adapters/datasets/index.js";
import { emulatorSkipReason, startFirestoreEmulator } from "../../helpers/firestore-emulator.js";

// L3-T1 (REQUIREMENTS): dataset/audit logging works where Firestore or BigQuery are missing,
// misconfigured or down — a clear log line, and POST /logging/events still answers accepted.

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "sy-l3-"));
  after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function captured() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger("info", { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }) };
}

const ctx = { tenantId: "t1", userId: "alice" };

describe("L3-T1 dataset logging falls back to the durable spool", () => {
  it("L3-T1 NEXUS_BACKEND=firestore without a project or emulator: one warn line, accepted with backend naming the fallback", async () => {
    const dir = tmp();
    const { logger, lines } = captured();
    const registry = new Registry();
    const config = configFrom({ NEXUS_BACKEND: "firestore", DATA_DIR: dir });
    const backend = await getDatasetBackend(config, { logger, registry });
    const svc = new DatasetsService(backend, logger);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await svc.accept(ctx, { type: "page.view", payload: { i } });
      assert.deepEqual({ status: r.status, backend: r.backend }, { status: "accepted", backend: "spool" });
      ids.push(r.eventId);
    }
    assert.ok(await svc.audit({ tenantId: "t1", type: "auth.denied", payload: { status: 401 } }));

    const warns = lines.filter((l) => l.level === 40);
    assert.equal(warns.length, 1, "exactly one warn line");
    assert.deepEqual(
      { adapter: warns[0]!.adapter, wanted: warns[0]!.wanted, using: warns[0]!.using, reason: warns[0]!.reason },
      { adapter: "datasets", wanted: "firestore", using: "spool", reason: "FIRESTORE_PROJECT_ID is not set" },
    );
    assert.equal(backend.describe(), "spool (fallback: firestore unavailable: FIRESTORE_PROJECT_ID is not set)");
    assert.deepEqual(await backend.health(), { ok: true, backend: backend.describe() });
    const metrics = await registry.metrics();
    assert.match(metrics, /switchyard_adapter_fallback_active\{adapter="datasets",wanted="firestore",using="spool"\} 1/);
    assert.match(metrics, /switchyard_adapter_fallbacks_total\{adapter="datasets",wanted="firestore",kind="not_configured"\} 1/);
    assert.match(metrics, /switchyard_datasets_spool_depth 4/);
    assert.deepEqual((await svc.list(ctx, { dataset: "events" })).items.map((e) => e.eventId), ids);

    // Durable: a restarted node (same DATA_DIR) still has every accepted event.
    await backend.close();
    const again = await getDatasetBackend(config, { logger, registry: new Registry() });
    after(() => again.close());
    assert.deepEqual((await new DatasetsService(again, logger).list(ctx, { dataset: "events" })).items.map((e) => e.eventId), ids);
  });

  it("L3-T1 the Firestore client cannot load: falls back with the import error as reason", async () => {
    const { logger, lines } = captured();
    const config = configFrom({ NEXUS_BACKEND: "firestore", FIRESTORE_PROJECT_ID: "demo-test", DATA_DIR: tmp() });
    const importModule = async (name: string) => {
      throw new Error(`Cannot find package '${name}'`);
    };
    const backend = await getDatasetBackend(config, { logger, importModule });
    after(() => backend.close());
    const r = await new DatasetsService(backend, logger).accept(ctx, { type: "x", payload: {} });
    assert.equal(r.backend, "spool");
    const warn = lines.find((l) => l.level === 40)!;
    assert.equal(warn.kind, "load_failed");
    assert.match(String(warn.reason), /cannot load @google-cloud\/firestore: Cannot find package/);
    assert.match(backend.describe(), /^spool \(fallback: firestore unavailable: cannot load @google-cloud\/firestore/);
  });

  it("L3-T1 NEXUS_BACKEND=bigquery without BIGQUERY_PROJECT_ID: falls back, accepted", async () => {
    const { logger, lines } = captured();
    const backend = await getDatasetBackend(configFrom({ NEXUS_BACKEND: "bigquery", DATA_DIR: tmp() }), { logger });
    after(() => backend.close());
    assert.equal((await new DatasetsService(backend, logger).accept(ctx, { type: "x", payload: {} })).backend, "spool");
    assert.equal(lines.filter((l) => l.level === 40 && l.wanted === "bigquery" && l.using === "spool").length, 1);
    assert.equal(backend.describe(), "spool (fallback: bigquery unavailable: BIGQUERY_PROJECT_ID is not set)");
  });

  it("L3-T1 Firestore emulator down → spool; emulator started → the spool drains, every event exactly once, in order", { skip: emulatorSkipReason() }, async () => {
    const emu = await startFirestoreEmulator();
    let backend: Awaited<ReturnType<typeof getDatasetBackend>> | undefined;
    // One hook, in order: the backend's client must go before the emulator it talks to.
    after(async () => {
      await backend?.close();
      await emu.dispose();
    });
    await emu.stop(); // down before the node starts
    const { logger, lines } = captured();
    const registry = new Registry();
    const prefix = `t${randomBytes(4).toString("hex")}_`;
    const config = configFrom({ NEXUS_BACKEND: "firestore", FIRESTORE_PROJECT_ID: "demo-test", DATA_DIR: tmp() });
    backend = await getDatasetBackend(config, {
      logger, registry, prefix, firestoreEmulatorHost: emu.host, probeTimeoutMs: 1000,
      drain: { batchSize: 7, baseDelayMs: 100, maxDelayMs: 1000, writeTimeoutMs: 3000 },
    });
    const svc = new DatasetsService(backend, logger);
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const r = await svc.accept(ctx, { type: "tick", payload: { i } });
      assert.equal(r.backend, "spool");
      ids.push(r.eventId);
    }
    assert.match(backend.describe(), /^spool \(fallback: firestore unavailable: no answer within 1000 ms\)$/);

    await emu.start();
    const until = Date.now() + 50_000;
    while (backend.describe() !== "firestore") {
      assert.ok(Date.now() < until, `spool drained after the emulator came back (now: ${backend.describe()})`);
      // Until then, new events keep landing behind the spooled ones.
      await new Promise((r) => setTimeout(r, 100));
    }
    // Read Firestore itself, not through the backend (which would also show spooled events).
    const direct = new FirestoreDatasetSink(emu.client(), { prefix });
    const stored = await direct.list("t1", { limit: 500 });
    assert.deepEqual(stored.items.map((e) => e.eventId), ids, "every event once, in order");
    assert.deepEqual(stored.items.map((e) => e.payload.i), ids.map((_, i) => i));
    const docs = await emu.client().collection(`${prefix}datasets`).doc("t_t1").collection("events").get();
    assert.equal(docs.size, 25, "no duplicate documents");

    assert.equal(lines.filter((l) => l.level === 40).length, 1, "one warn for the whole outage");
    assert.ok(lines.some((l) => l.level === 30 && l.adapter === "datasets" && /available again/.test(String(l.msg))));
    assert.match(await registry.metrics(), /switchyard_adapter_fallback_active\{adapter="datasets",wanted="firestore",using="spool"\} 0/);
    assert.equal((await svc.accept(ctx, { type: "after", payload: {} })).backend, "firestore", "direct again once drained");
  });
});
