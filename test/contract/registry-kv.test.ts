import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { NatsBus } from "../../src/bus/nats.js";
import { subjects } from "../../src/bus/subjects.js";
import { AppError } from "../../src/errors/index.js";
import { KvRegistry } from "../../src/registry/nats-kv.js";
import { natsSkipReason, startNatsServer, type TestServer } from "../helpers/nats-server.js";
import { eventually } from "./bus.contract.js";
import { describeRegistryContract } from "./registry.contract.js";

let server: TestServer | undefined;
const buses: NatsBus[] = [];

before(async () => {
  if (natsSkipReason()) return;
  server = await startNatsServer();
});
after(async () => {
  for (const b of buses) await b.close().catch(() => undefined);
  await server?.destroy();
});

async function bus(): Promise<NatsBus> {
  if (!server) throw new Error("no nats-server");
  const b = await NatsBus.connect({ servers: server.url });
  buses.push(b);
  return b;
}

if (!natsSkipReason()) {
  describeRegistryContract("nats-kv", async () => {
    const prefix = `t${randomBytes(4).toString("hex")}`;
    const b = await bus();
    return {
      registry: await KvRegistry.open(b.connection, { prefix }),
      // Another node's view: a new connection and instance over the same bucket.
      reopen: async () => KvRegistry.open((await bus()).connection, { prefix }),
      cleanup: async () => {
        const jsm = await jetstreamManager(b.connection);
        // A KV bucket is the stream KV_<bucket>.
        await jsm.streams.delete(`KV_${subjects(prefix).registryBucket}`).catch(() => undefined);
      },
    };
  });
}

describe("KvRegistry across nodes", { skip: natsSkipReason() }, () => {
  it("two nodes racing on one id agree on one record; an outage is ERR_NOT_READY", async (t) => {
    const prefix = `t${randomBytes(4).toString("hex")}`;
    const [b1, b2] = [await bus(), await bus()];
    t.after(async () => {
      await (await jetstreamManager(b1.connection)).streams.delete(`KV_${subjects(prefix).registryBucket}`).catch(() => undefined);
    });
    const [r1, r2] = await Promise.all([KvRegistry.open(b1.connection, { prefix, timeoutMs: 1_000 }), KvRegistry.open(b2.connection, { prefix })]);
    for (let i = 0; i < 10; i++) {
      const ref = { tenant: "acme", kind: "thread" as const, id: `r${i}` };
      const [x, y] = await Promise.all([r1.register(ref, { createdBy: "n1" }), r2.register(ref, { createdBy: "n2" })]);
      assert.equal(Number(x.created) + Number(y.created), 1);
      assert.deepEqual(x.record, y.record);
    }
    const fast = await KvRegistry.open(b1.connection, { prefix, isConnected: () => b1.status() === "connected" });
    await server?.stop();
    try {
      await eventually(() => b1.status() === "reconnecting", 5_000, "bus notices the outage");
      const opened = await KvRegistry.open(b1.connection, { prefix, timeoutMs: 500 }).catch((e: unknown) => e);
      assert.ok(opened instanceof AppError && opened.key === "ERR_NOT_READY");
      const notReady = (e: unknown): boolean => e instanceof AppError && e.key === "ERR_NOT_READY";
      await assert.rejects(r1.get({ tenant: "acme", kind: "thread", id: "r1" }), notReady);
      const t0 = Date.now();
      await assert.rejects(fast.register({ tenant: "acme", kind: "thread", id: "new" }, { createdBy: "n1" }), notReady);
      assert.ok(Date.now() - t0 < 100, "fails fast with the status hint");
    } finally {
      await server?.start();
    }
    await eventually(() => b1.status() === "connected", 10_000, "reconnect");
    assert.equal((await fast.get({ tenant: "acme", kind: "thread", id: "r1" }))?.id, "r1");
  });
});
