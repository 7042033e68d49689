import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { NatsBus } from "../../../src/bus/nats.js";
import { subjects } from "../../../src/bus/subjects.js";
import { Membership } from "../../../src/cluster/membership.js";
import { ownerOf } from "../../../src/cluster/placement.js";
import { eventually } from "../../contract/bus.contract.js";
import { natsSkipReason, startNatsServer, type TestServer } from "../../helpers/nats-server.js";

// Membership against a real nats-server (it is KV watch + heartbeats; a fake would test nothing).
describe("Membership over NATS KV", { skip: natsSkipReason() }, () => {
  let server: TestServer;
  const buses: NatsBus[] = [];
  const members: Membership[] = [];
  const prefix = `t${randomBytes(4).toString("hex")}`;
  const timing = { heartbeatMs: 150, ttlMs: 500 };

  const node = async (nodeId: string): Promise<{ bus: NatsBus; m: Membership }> => {
    const bus = await NatsBus.connect({ servers: server.url, reconnectTimeWaitMs: 100 });
    buses.push(bus);
    const m = await Membership.start(bus.connection, { prefix, nodeId, ...timing });
    members.push(m);
    return { bus, m };
  };

  before(async () => {
    server = await startNatsServer();
  });
  after(async () => {
    for (const m of members) await m.stop().catch(() => undefined);
    for (const b of buses) await b.close().catch(() => undefined);
    await server.destroy();
  });

  it("nodes see each other; a graceful leave is seen at once, a crash within the TTL", async () => {
    const a = await node("a");
    assert.deepEqual(a.m.members(), ["a"], "a node counts itself once its first heartbeat is stored");
    const b = await node("b");
    const c = await node("c");
    await eventually(() => [a, b, c].every((n) => n.m.members().join() === "a,b,c"), 5_000, "all see three");
    const changes: string[] = [];
    a.m.onChange((list) => changes.push(list.join()));

    const t0 = Date.now();
    await b.m.stop();
    await eventually(() => a.m.members().join() === "a,c", 2_000, "graceful leave");
    const leaveMs = Date.now() - t0;
    assert.ok(leaveMs < timing.ttlMs, `a graceful leave does not wait for the TTL (${leaveMs} ms)`);

    // kill -9 stand-in: c's link dies without deleting its key; its heartbeats stop.
    const t1 = Date.now();
    await c.bus.connection.close();
    await eventually(() => a.m.members().join() === "a", 5_000, "crash detection");
    const crashMs = Date.now() - t1;
    // Its last heartbeat may predate the close by up to one interval; timers add a little jitter.
    assert.ok(crashMs >= timing.ttlMs - timing.heartbeatMs - 50, `not evicted before the TTL (${crashMs} ms)`);
    assert.ok(crashMs <= timing.ttlMs + 2 * timing.heartbeatMs + 300, `evicted within TTL + sweep (${crashMs} ms)`);
    // members() is computed on read; the notification follows at the next sweep.
    await eventually(() => changes.length === 2, 2_000, "change notifications");
    assert.deepEqual(changes, ["a,c", "a"]);
  });

  it("placement agrees on every node, and the cluster re-forms after a NATS restart", async (t) => {
    const [x, y] = [await node("x"), await node("y")];
    await eventually(() => x.m.members().includes("y") && y.m.members().includes("x"), 5_000, "x and y see each other");
    for (let i = 0; i < 200; i++) assert.equal(ownerOf(`k${i}`, x.m.members()), ownerOf(`k${i}`, y.m.members()));

    await server.stop();
    // Cut off from NATS, a node stops heartbeating and, after the TTL, stops claiming anything.
    await eventually(() => x.m.members().length === 0, 5_000, "x drops everyone, itself included");
    await eventually(() => x.m.state().lastError !== null, 5_000, "the failed heartbeat is reported");
    await server.start();
    const t0 = Date.now();
    await eventually(() => x.m.members().includes("x") && x.m.members().includes("y") && y.m.members().includes("x"), 15_000, "re-formed");
    t.diagnostic(`membership re-formed ${Date.now() - t0} ms after nats-server came back`);
  });

  after(async () => {
    const bus = buses.find((b) => b.status() === "connected");
    if (bus) await (await jetstreamManager(bus.connection)).streams.delete(`KV_${subjects(prefix).membersBucket}`).catch(() => undefined);
  });
});
