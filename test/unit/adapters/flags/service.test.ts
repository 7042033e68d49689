import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { AppError } from "../../../../src/errors/index.js";
import { createLogger } from "../../../../src/observability/logger.js";
import { configFrom } from "../../../../src/config/index.js";
import { createFlagStore, FlagsService, MemoryFlagStore, NatsKvFlagStore } from "../../../../src/adapters/flags/index.js";

/** A pino logger whose lines the test can read back, parsed. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger("debug", { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

const code = (key: string) => (e: unknown) => e instanceof AppError && e.key === key;
const ctx = { tenantId: "t1" };

describe("FlagsService: routes' semantics (SPEC §4, §7)", () => {
  it("get: unknown flag → not_found; a default → the flag; bad key → invalid_request", async () => {
    const svc = new FlagsService(new MemoryFlagStore(), capturedLogger().logger);
    await assert.rejects(svc.get(ctx, "nope"), code("ERR_NOT_FOUND"));
    assert.equal((await svc.get(ctx, "chat.enabled")).scope, "global");
    await assert.rejects(svc.get(ctx, "Bad Key"), code("ERR_INVALID_REQUEST"));
    assert.ok((await svc.list(ctx)).items.length > 0);
  });

  it("put validates the body with details and answers created true, then false", async () => {
    const svc = new FlagsService(new MemoryFlagStore(), capturedLogger().logger);
    const bad: unknown[] = [undefined, {}, { enabled: "yes" }, { enabled: true, rollout: 101 }, { enabled: true, rollout: 1.5 },
      { enabled: true, rollout: -1 }, { enabled: true, description: "x".repeat(501) }, { enabled: true, extra: 1 }, [true]];
    for (const body of bad) {
      await assert.rejects(svc.put(ctx, "k", body), (e: unknown) => {
        assert.ok(e instanceof AppError && e.key === "ERR_INVALID_REQUEST", JSON.stringify(body));
        assert.ok(Array.isArray(e.details) && e.details.length > 0);
        return true;
      });
    }
    await assert.rejects(svc.put(ctx, "x".repeat(129), { enabled: true }), code("ERR_INVALID_REQUEST"));
    const first = await svc.put(ctx, "k", { enabled: true, rollout: 0, description: "x".repeat(500) });
    assert.equal(first.created, true);
    assert.equal((await svc.put(ctx, "k", { enabled: false })).created, false);
    await assert.rejects(svc.get({ tenantId: "t2" }, "k"), code("ERR_NOT_FOUND"), "another tenant does not see it");
  });

  it("delete removes the override once; then not_found", async () => {
    const svc = new FlagsService(new MemoryFlagStore(), capturedLogger().logger);
    await svc.put(ctx, "chat.enabled", { enabled: false });
    await svc.delete(ctx, "chat.enabled");
    await assert.rejects(svc.delete(ctx, "chat.enabled"), code("ERR_NOT_FOUND"));
    await assert.rejects(svc.delete(ctx, "never.set"), code("ERR_NOT_FOUND"));
    assert.equal((await svc.get(ctx, "chat.enabled")).enabled, true);
  });
});

describe("FlagsService.isEnabled: never throws (OpenFeature)", () => {
  it("unknown flag → the caller's default, logged with reason FLAG_NOT_FOUND", async () => {
    const { logger, lines } = capturedLogger();
    const svc = new FlagsService(new MemoryFlagStore(), logger);
    assert.equal(await svc.isEnabled("t1", "no.such", true), true);
    assert.equal(await svc.isEnabled("t1", "no.such", false), false);
    assert.equal(await svc.isEnabled("t1", "Bad Key", true), true, "even an invalid key does not throw");
    assert.ok(lines.some((l) => l.flag === "no.such" && l.reason === "FLAG_NOT_FOUND" && l.defaultValue === true));
  });

  it("disabled beats the default; rollout splits subjects stably", async () => {
    const store = new MemoryFlagStore();
    const svc = new FlagsService(store, capturedLogger().logger);
    await store.putOverride("t1", "off", { enabled: false });
    assert.equal(await svc.isEnabled("t1", "off", true), false);
    await store.putOverride("t1", "none", { enabled: true, rollout: 0 });
    await store.putOverride("t1", "half", { enabled: true, rollout: 50 });
    let on = 0;
    for (let i = 0; i < 1000; i++) {
      assert.equal(await svc.isEnabled("t1", "none", true, `u${i}`), false);
      if (await svc.isEnabled("t1", "half", false, `u${i}`)) on++;
    }
    assert.ok(on > 400 && on < 600, `50% rollout enabled ${on}/1000`);
    const once = await svc.isEnabled("t1", "half", false, "alice");
    for (let i = 0; i < 5; i++) assert.equal(await svc.isEnabled("t1", "half", false, "alice"), once);
  });

  it("NATS connection closed → the default, and the control plane answers not_ready", async () => {
    const { logger, lines } = capturedLogger();
    const nc = await connect({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
    const prefix = `t${randomBytes(4).toString("hex")}`;
    const store = await NatsKvFlagStore.open(nc, { prefix });
    await store.putOverride("t1", "x.y", { enabled: true });
    await (await new Kvm(nc).open(NatsKvFlagStore.bucketName(prefix))).destroy();
    await nc.close();
    const svc = new FlagsService(store, logger);
    assert.equal(await svc.isEnabled("t1", "x.y", false), false);
    assert.ok(lines.some((l) => l.level === 40 && l.reason === "PROVIDER_NOT_READY" && l.backend === "nats"));
    await assert.rejects(svc.put(ctx, "x.y", { enabled: false }), code("ERR_NOT_READY"));
    assert.equal((await store.health()).ok, false);
  });
});

describe("createFlagStore", () => {
  it("selects by FEATURE_FLAGS_BACKEND; an unusable backend is a declared memory fallback in dev, an error in prod", async () => {
    assert.equal((await createFlagStore(configFrom({}))).backend, "memory");
    const { logger, lines } = capturedLogger();
    const fs = await createFlagStore(configFrom({ FEATURE_FLAGS_BACKEND: "firestore" }), { logger });
    assert.equal(fs.describe(), "memory (fallback: firestore unavailable: FIRESTORE_PROJECT_ID is not set)");
    const nats = await createFlagStore(configFrom({ FEATURE_FLAGS_BACKEND: "nats" }), { logger });
    assert.equal(nats.describe(), "memory (fallback: nats unavailable: no NATS connection)");
    const warns = lines.filter((l) => l.level === 40 && l.adapter === "flags");
    assert.deepEqual(warns.map((w) => [w.wanted, w.using]), [["firestore", "memory"], ["nats", "memory"]]);
    const prod = { APP_ENV: "prod", AUTH_JWT_SECRET: "x".repeat(32) };
    await assert.rejects(createFlagStore(configFrom({ ...prod, FEATURE_FLAGS_BACKEND: "firestore" })), /FIRESTORE_PROJECT_ID.*no fallback in prod/);
    await assert.rejects(createFlagStore(configFrom({ ...prod, FEATURE_FLAGS_BACKEND: "nats" })), /no fallback in prod/);
  });
});
