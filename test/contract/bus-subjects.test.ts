import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { createBus } from "../../src/bus/index.js";
import { BusUnavailableError } from "../../src/bus/errors.js";
import { subjects } from "../../src/bus/subjects.js";
import { configFrom } from "../../src/config/index.js";
import { AppError } from "../../src/errors/index.js";
import { natsSkipReason, startNatsServer } from "../helpers/nats-server.js";
import { redisSkipReason, startRedisServer } from "../helpers/redis-server.js";

const s = subjects("sy");
const ref = { tenant: "acme", kind: "thread" as const, id: "t1" };
const invalid = (e: unknown): boolean => e instanceof AppError && e.key === "ERR_INVALID_REQUEST";

describe("subject builders", () => {
  it("spell every name over the one prefix, tenant in the subject", () => {
    assert.equal(s.event(ref), "sy.ev.acme.thread.t1");
    assert.equal(s.owner("n1", ref), "sy.own.n1.acme.thread.t1");
    assert.equal(s.ownerAll("n1"), "sy.own.n1.>");
    assert.equal(s.logEvents(ref), "sy.log.ev.acme.thread.t1");
    assert.equal(s.logAll, "sy.log.>");
    assert.equal(s.logStream, "sy_log");
    assert.equal(s.registryKey(ref), "acme.thread.t1");
    assert.equal(s.registryKeysOf("acme", "canvas"), "acme.canvas.*");
    assert.ok(s.logEvents(ref).startsWith("sy.log."), "log subjects fall inside the stream's filter");
    assert.ok(!s.event(ref).startsWith("sy.log."), "fan-out subjects stay out of the stream");
  });

  it("refuse ids that would become wildcards or extra tokens, before any subject exists", () => {
    for (const bad of ["a.b", "*", ">", "", "a b", "a\nb", "x".repeat(129), "ü"]) {
      assert.throws(() => s.event({ ...ref, tenant: bad }), invalid, `tenant ${JSON.stringify(bad)}`);
      assert.throws(() => s.event({ ...ref, id: bad }), invalid, `id ${JSON.stringify(bad)}`);
      assert.throws(() => s.owner(bad, ref), invalid, `node ${JSON.stringify(bad)}`);
    }
    assert.throws(() => s.event({ ...ref, kind: "thread.x" as "thread" }), invalid);
    assert.throws(() => subjects("a.b"), AppError);
    assert.throws(() => subjects(""), AppError);
  });

  it("turn any dedupe key into one safe token, distinct keys into distinct subjects", () => {
    const keys = ["k", "a.b", "*", ">", "with space", "ünï", "a.b.>"];
    const subs = keys.map((k) => s.logDedupe(ref, k));
    assert.equal(new Set(subs).size, keys.length);
    for (const sub of subs) assert.match(sub, /^sy\.log\.dk\.acme\.thread\.t1\.[A-Za-z0-9_-]+$/);
    assert.throws(() => s.logDedupe(ref, ""), invalid);
  });
});

describe("createBus", () => {
  const stops: Array<() => Promise<void>> = [];
  after(async () => {
    for (const stop of stops) await stop();
  });

  it("builds the configured backend", async (t) => {
    const mem = await createBus(configFrom({ CHAT_BUS_BACKEND: "memory" }));
    assert.equal(mem.kind, "memory");
    await mem.close();
    if (!natsSkipReason()) {
      const nats = await startNatsServer();
      stops.push(() => nats.destroy());
      const bus = await createBus(configFrom({ CHAT_BUS_BACKEND: "nats", NATS_URL: nats.url }));
      assert.equal(bus.kind, "nats");
      assert.equal(bus.status(), "connected");
      // Over the server's max payload (1 MiB default): refused up front, the same for publish and request.
      const tooBig = new Uint8Array(1024 * 1024 + 1);
      const tooLarge = (e: unknown): boolean => e instanceof AppError && e.key === "ERR_PAYLOAD_TOO_LARGE";
      assert.throws(() => bus.publish("sy.big", tooBig), tooLarge);
      await assert.rejects(bus.request("sy.big", tooBig, 500), tooLarge);
      await bus.close();
    } else t.diagnostic("nats skipped");
    if (!redisSkipReason()) {
      const redis = await startRedisServer();
      stops.push(() => redis.destroy());
      const bus = await createBus(configFrom({ CHAT_BUS_BACKEND: "redis", REDIS_URL: redis.url }));
      assert.equal(bus.kind, "redis");
      await bus.close();
    } else t.diagnostic("redis skipped");
  });

  it("fails at start, typed, when the server cannot be reached (no silent fallback)", async () => {
    // Port 1 on loopback: nothing listens there.
    await assert.rejects(createBus(configFrom({ CHAT_BUS_BACKEND: "nats", NATS_URL: "nats://127.0.0.1:1" })), BusUnavailableError);
    await assert.rejects(createBus(configFrom({ CHAT_BUS_BACKEND: "redis", REDIS_URL: "redis://127.0.0.1:1" })), BusUnavailableError);
  });
});
