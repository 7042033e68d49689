import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { PublishInput, PublishOutcome } from "../../src/actors/types.js";
import type { WorkerActorHost } from "../../src/actors/worker-host.js";
import { MemoryBus, MemoryBusHub, subjects } from "../../src/bus/index.js";
import { ClusterMetrics } from "../../src/cluster/cluster-metrics.js";
import { Forwarder } from "../../src/cluster/forwarder.js";
import { MembersBoard, MembersFeed } from "../../src/cluster/members-feed.js";
import { decodeEvents, decodeForward, encodeEvents } from "../../src/cluster/wire.js";
import { AppError } from "../../src/errors/index.js";
import type { ResourceRef } from "../../src/registry/ids.js";

// Forwarding rules on the in-memory bus (the NATS path is covered end to end
// by the other cluster-* tests): what is retried, what is not, and when.

const ref: ResourceRef = { tenant: "t1", kind: "thread", id: "th1" };
const input: PublishInput = { kind: "thread", senderId: "u", text: "hi", clientMsgId: "c1" };
const s = subjects("fw");

function node(nodeId: string, hub: MemoryBusHub, owner: () => string | undefined, timeoutMs = 600) {
  const calls: PublishInput[] = [];
  const local = {
    publish: async (_r: ResourceRef, i: PublishInput): Promise<PublishOutcome> => {
      calls.push(i);
      return { status: "created", seq: calls.length, json: JSON.stringify({ by: nodeId }) };
    },
  } as unknown as WorkerActorHost; // only publish is used by the forwarder
  const f = new Forwarder({
    nodeId, bus: new MemoryBus(hub), subjects: s, local, forwardTimeoutMs: timeoutMs,
    metrics: new ClusterMetrics(new Registry()), log: pino({ level: "silent" }),
    owner: () => owner(), isOwner: () => owner() === nodeId,
  });
  return { f, calls };
}

describe("cluster forwarding rules (memory bus)", () => {
  it("forwards to the owner, which runs the publish once", async () => {
    const hub = new MemoryBusHub();
    const a = node("a", hub, () => "b");
    const b = node("b", hub, () => "b");
    b.f.serve(() => false);
    const out = await a.f.publish(ref, input);
    assert.equal(out.status, "created");
    assert.deepEqual(out.status === "created" && JSON.parse(out.json), { by: "b" });
    assert.equal(b.calls.length, 1);
    assert.equal(a.calls.length, 0);
  });

  it("no responder: retries until the view moves ownership here, then publishes locally", async () => {
    const hub = new MemoryBusHub();
    let owner = "dead";
    const a = node("a", hub, () => owner, 3000);
    setTimeout(() => (owner = "a"), 300);
    const out = await a.f.publish(ref, input);
    assert.equal(out.status, "created");
    assert.equal(a.calls.length, 1);
  });

  it("no responder until the deadline: a retryable 503, nothing published", async () => {
    const a = node("a", new MemoryBusHub(), () => "dead", 300);
    await assert.rejects(a.f.publish(ref, input), (e: unknown) => e instanceof AppError && e.status === 503 && e.retryAfterS === 1);
    assert.equal(a.calls.length, 0);
  });

  it("'moved' answers (receiver disagrees, or drains) are retried; the receiver never runs them", async () => {
    const hub = new MemoryBusHub();
    const a = node("a", hub, () => "b", 400);
    const b = node("b", hub, () => "c");
    b.f.serve(() => false);
    await assert.rejects(a.f.publish(ref, input), (e: unknown) => e instanceof AppError && e.status === 503 && /not the owner/.test(e.message));
    const c = node("c", hub, () => "c");
    c.f.serve(() => true);
    const a2 = node("a2", hub, () => "c", 300);
    await assert.rejects(a2.f.publish(ref, input), (e: unknown) => e instanceof AppError && /draining/.test(e.message));
    assert.equal(b.calls.length + c.calls.length, 0);
  });

  it("a timeout is not retried (the owner may have appended): 504 after one attempt", async () => {
    const hub = new MemoryBusHub();
    const a = node("a", hub, () => "slow", 300);
    let received = 0;
    new MemoryBus(hub).respond(s.ownerAll("slow"), () => {
      received++;
      return new Promise<Uint8Array>(() => {}); // never answers
    });
    await assert.rejects(a.f.publish(ref, input), (e: unknown) => e instanceof AppError && e.status === 504);
    assert.equal(received, 1);
  });

  it("peer messages are validated: junk is refused, events round-trip", () => {
    const enc = new TextEncoder();
    assert.equal(decodeForward(enc.encode(JSON.stringify({ ref: { ...ref, tenant: "a.b" }, input }))), undefined, "a tenant that is not a token");
    assert.equal(decodeForward(enc.encode("{")), undefined);
    assert.equal(decodeEvents(enc.encode(JSON.stringify({ n: "a", e: "x", v: [] }))), undefined, "empty batches are not events");
    const ev = { seq: 3, dedupeKey: null, bodyHash: "h", payload: { x: 1 }, ts: 5 };
    assert.deepEqual(decodeEvents(encodeEvents("a", "ep", [ev])), { nodeId: "a", epoch: "ep", events: [ev] });
  });

  it("member list long poll: answers at once when newer, on change, or after the hold", async () => {
    const board = new MembersBoard();
    const seen: string[][] = [];
    const feed = new MembersFeed((known) => board.wait(known, 100), (m) => seen.push([...m]), () => {});
    board.set(["a"]);
    await feed.start();
    assert.deepEqual(feed.members(), ["a"]);
    board.set(["a", "b"]);
    const deadline = Date.now() + 2000;
    while (feed.members().length !== 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen, [["a"], ["a", "b"]]);
    feed.stop();
    board.close();
  });
});
